/**
 * @fileoverview CLI help text and exit codes (the README repeats both).
 */

import { EXIT_CODES } from '../engine/verdict.ts'

/** Exit codes (the library's `EXIT_CODES`). */
export const EXIT = EXIT_CODES

const EXIT_TEXT = `Exit codes:
  0  complete, and no failed finding at or above --fail-on
  1  failed findings at or above --fail-on (even if the scan is also incomplete)
  2  usage, configuration or input error, found before the first probe (names the file and field)
  3  internal error
  4  incomplete: more check errors than --max-errors, or nothing checked
  130, 143  interrupted by SIGINT / SIGTERM (a partial report marked incomplete is written)
`

/** `ztscan --help`: the commands. */
export const HELP = `ztscan — zero-trust posture scanner (MFA, certificates, TLS, SSH, open ports, endpoint agents)

Usage: ztscan COMMAND [options]

Commands:
  scan [TARGET...]      scan targets; with none, scan this machine on loopback
  demo                  start a throwaway lab of flawed services on loopback and scan it
  rules                 list the rules: id, severity, pillar, title
  merge PART...         join sharded JSON or SARIF reports into one report with one score
  trend REPORT.json...  score per pillar over runs; fixed, new and still open between the last two
  config                print the effective configuration and where each value came from
  help [COMMAND]        this text, or a command's options

Every command takes -h/--help and -V/--version. \`ztscan help scan\` lists the scan options.

Configuration, highest first: flags; ZTSCAN_* environment variables (ZTSCAN_FAIL_ON=none, ZTSCAN_FORMAT=json,sarif;
switches 1/0); a config file (--config FILE, ZTSCAN_CONFIG, or the first ztscan.config.yaml|yml|json or .ztscan.yaml
from the working directory up to the repository root) holding the flags' long names plus targets, settings and policy;
defaults. \`ztscan config\` shows the result.

${EXIT_TEXT}`

const SCAN_HELP = `Usage: ztscan scan [TARGET...] [options]

Scans the targets; with none, scans this machine on loopback.

Targets:
  tls://HOST:PORT[?sni=NAME]  cert:FILE.pem|der  host://HOST[?ports=22,80,8000-8100|top100|all]
  nmap:FILE.xml  ssh://[USER@]HOST[:PORT]  agents://USER@HOST[:PORT]  local
  idp:okta|entra|google|aws|github:FILE  inventory:crowdstrike|defender|sentinelone|intune|osquery:FILE
  oidc:https://ISSUER[#tokens=FILE]
  IPv6 hosts in brackets: tls://[::1]:8443

Scan options:
  -c, --config FILE           config file (default: the nearest ztscan.config.yaml|yml|json or .ztscan.yaml)
  -t, --targets FILE          YAML/JSON list of targets, or { targets: [...], settings: {...} } (repeatable)
      --nmap FILE             nmap -oX output (repeatable; same as nmap:FILE)
      --idp PROVIDER:FILE     identity-provider export (repeatable)
      --inventory PROVIDER:FILE  EDR/MDM inventory export (repeatable)
  -p, --policy FILE           policy (JSON or YAML): enable/disable rules, severities, parameters
  -f, --format FORMAT         json | sarif | table | markdown | html | junit | gitlab | codequality | jsonl (repeatable);
                              goes to stdout, or to an -o FILE whose extension does not say the format
  -o, --output FILE           write a report to FILE (repeatable); .sarif, .json, .md, .html, .xml (JUnit),
                              .gitlab.json or gl-dast-report.json (GitLab DAST), .codequality.json or
                              gl-code-quality-report.json (GitLab Code Quality), .jsonl (JSON Lines) pick the format
      --gitlab-schema-version V   GitLab security report schema version to declare (default 15.0.7)
      --history DIR           add this run to DIR (ztscan-<time>.json) and show the trend over DIR's runs in the
                              html and markdown reports and the GitHub step summary
      --fail-on SEVERITY      critical | high | medium | low | info | none (default: high)
      --severity LIST         run, report and gate only rules at these severities (e.g. critical,high)
      --only RULE|FAMILY      run only these rules or families (repeatable or comma-separated)
      --skip RULE|FAMILY      do not run these rules or families (repeatable or comma-separated)
      --concurrency N         checks in flight (default 32)
      --per-host N            checks in flight per host (default 4)
      --timeout DURATION      per check and target (default 15s); a bare number is seconds: 30, 500ms, 5s, 2m, 1h
      --connect-timeout DURATION  per connection (default 5s)
      --max-errors N|P%       check errors tolerated before the scan counts as incomplete (default 0)
      --baseline FILE         previous report (.json or .sarif): findings get new/unchanged/updated, gone ones absent
      --fail-on-new           exit 1 only for NEW findings at or above --fail-on (needs --baseline)
      --suppressions FILE     YAML/JSON { suppressions: [{ rule, target, resource?, reason, expires: YYYY-MM-DD }] }
      --chain                 also probe TLS/SSH ports found in offline input (nmap XML); by default only live
                              scans (host://) chain, and files never cause network traffic
      --no-chain              chain nothing (not even from host:// scans)
      --port-scanner NAME     auto (default: nmap when on the PATH) | nmap | builtin (TCP connect scan) for host://
      --shard I/N             scan only shard I of N (stable hash of target ids)
      --category NAME         SARIF automationDetails category (GitHub code scanning)
      --sarif-max-results N   most SARIF results per run (default 25,000, GitHub's limit; beyond it results are grouped
                              per host, then per rule, highest severity kept finest; also kept under 10 MB gzip)
      --ssh-user USER --ssh-key FILE   SSH login for agents:// targets (ssh:// probes send no credentials)
      --known-hosts FILE      verify SSH host keys (ssh:// and agents://) against this file
      --host-key SHA256:...   pin an SSH host key fingerprint (repeatable; HOST:PORT=SHA256:... to scope)
      --insecure-accept-unknown-host-keys   do not verify SSH host keys (explicit opt-out)
      --ca-file FILE          extra trust anchors for certificate chains
      --agent-catalogue FILE  extra/overriding endpoint agents (same schema as checks/endpoint-agent/catalogue.json)
      --plugin MODULE         load extra checks: a module exporting { checks, rules } (repeatable)
      --progress MODE         auto (default: tty on a terminal, plain otherwise) | tty (one line redrawn, at most
                              10 times a second) | plain (a line every --progress-interval, default 10s) | none
      --verbose               one line per target with its verdict, on stderr
      --debug                 the checks' debug log on stderr (secrets redacted)
  -q, --quiet                 no progress or notes on stderr

  -h, --help                  this text
  -V, --version               ztscan's version

${EXIT_TEXT}`


const COMMAND_HELP: Readonly<Record<string, string>> = {
  scan: SCAN_HELP,
  demo: `Usage: ztscan demo [options]

Starts a throwaway lab of flawed services and exports on loopback and in a temp folder, scans it and stops it.
Takes every scan option except targets (ztscan help scan), e.g. -o demo.json, --fail-on none, -q.

${EXIT_TEXT}`,
  rules: `Usage: ztscan rules [options]

Lists every rule: id, severity, pillar and title, after the policy.

Options:
  -f, --format FORMAT         table (default) | json
  -p, --policy FILE           show severities and enabled state as this policy sets them
      --severity LIST         mark rules at other severities disabled (as ztscan scan --severity would)
      --only RULE|FAMILY      mark all other rules disabled (repeatable or comma-separated)
      --skip RULE|FAMILY      mark these rules or families disabled
  -h, --help                  this text
  -V, --version               ztscan's version
`,
  merge: `Usage: ztscan merge PART... [options]

Joins sharded reports (all JSON reports or all SARIF logs, from ztscan scan --shard I/N) into one report with one score.

Options:
  -o, --output FILE           write the merged report to FILE; .json, .sarif, .md, .html pick the format
  -f, --format FORMAT         the format for stdout or an -o FILE without a known extension (default: table)
      --category NAME         SARIF automationDetails category
  -h, --help                  this text
  -V, --version               ztscan's version
`,
  trend: `Usage: ztscan trend REPORT.json... [options]

Score per pillar over earlier runs' JSON reports; fixed, new and still-open findings between the last two.

Options:
      --history DIR           also read the runs in DIR (written by ztscan scan --history DIR)
  -o, --output FILE           write to FILE; .md, .html, .json pick the format (default: Markdown on stdout)
  -f, --format FORMAT         markdown | html | json
  -h, --help                  this text
  -V, --version               ztscan's version
`,
  config: `Usage: ztscan config [--config FILE] [scan options]

Prints the configuration a scan with these options would use, one "key: value  # source" line each (the lines are a
valid config file): flags > ZTSCAN_* variables > config file > defaults. Secrets in settings are redacted.
`,
  help: `Usage: ztscan help [COMMAND]

Prints the commands, or one command's options.
`,
}

/** The commands `ztscan help` knows. */
export const COMMANDS: readonly string[] = Object.keys(COMMAND_HELP)

/** A command's help text (undefined for an unknown command). */
export function commandHelp(cmd: string): string | undefined {
  return Object.hasOwn(COMMAND_HELP, cmd) ? COMMAND_HELP[cmd] : undefined
}

export { UsageError } from '../errors.ts'
