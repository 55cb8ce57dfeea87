/**
 * @fileoverview CLI help text and exit codes (the README repeats both).
 */

import type { FamilyFlag } from '../engine/check.ts'
import { EXIT_CODES } from '../engine/verdict.ts'
import type { FORMAT_NAMES } from '../report/format-names.ts'

type FormatNames = typeof FORMAT_NAMES

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

/** Wraps help text at about 120 columns, continuing under the description column. */
function wrap(text: string, width = 90): string {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  lines.push(line)
  return lines.join('\n' + ' '.repeat(30))
}

/** Pads the help's left column. */
function row(left: string, text: string): string {
  return left.length >= 28 ? `  ${left}\n${' '.repeat(30)}${text}` : `  ${left.padEnd(28)}${text}`
}

/**
 * What the help texts need of a family: its name, target forms, flags and the target kinds of its checks. A `Family` is
 * one; the build also writes the built-in families' as data (scripts/gen-start-data.mjs → dist/src/generated/family-help.js),
 * so `ztscan --help` and `ztscan scan --help` load no family module.
 */
export interface FamilyHelp {
  readonly name: string
  readonly targets: readonly { readonly scheme: string; readonly kind: string; readonly example: string; readonly note?: string }[]
  readonly flags?: readonly FamilyFlag[]
  readonly checks: readonly { readonly targetKinds: readonly string[] }[]
}

/** A family's help data, as plain JSON (what the build writes for the built-in families). */
export function familyHelpOf(f: FamilyHelp): FamilyHelp {
  return {
    name: f.name,
    targets: f.targets.map((t) => ({ scheme: t.scheme, kind: t.kind, example: t.example, ...(t.note === undefined ? {} : { note: t.note }) })),
    ...(f.flags ? { flags: f.flags.map((fl) => ({ ...fl })) } : {}),
    checks: f.checks.map((c) => ({ targetKinds: [...c.targetKinds] })),
  }
}

/** The families whose checks run against `kind` (the declaring family first). */
function checkedBy(families: readonly FamilyHelp[], kind: string, owner: FamilyHelp): string[] {
  return [owner, ...families.filter((f) => f !== owner)].filter((f) => f.checks.some((c) => c.targetKinds.includes(kind))).map((f) => f.name)
}

/** The README's target table (Markdown), from the registrations; a test keeps the README equal to it. */
export function targetTable(families: readonly FamilyHelp[]): string {
  const rows = families.flatMap((f) => f.targets.map((t) => `| \`${t.example.replace(/\|/g, '\\|')}\` | \`${t.kind}\`${t.note ? ` (${t.note})` : ''} | ${checkedBy(families, t.kind, f).join(', ')} |`))
  return ['| string | kind | checked by |', '|---|---|---|', ...rows].join('\n') + '\n'
}

/** `ztscan --help`: the commands (`families`: the built-in ones; help takes them so it loads no check code itself). */
export const mainHelp = (families: readonly FamilyHelp[]): string => `ztscan — zero-trust posture scanner (${families.map((f) => f.name).join(', ')})

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

/**
 * `ztscan scan --help`. The families' target forms and flags, and the report formats, come from their registrations, so a
 * plugin family (`--plugin`) shows up like a built-in one.
 */
export function scanHelp(families: readonly FamilyHelp[], formats: FormatNames): string {
  const targets = families.flatMap((f) => f.targets.map((t) => row(t.example, `${t.kind}${t.note ? ` (${t.note})` : ''}; ${checkedBy(families, t.kind, f).join(', ')}`)))
  const flags = families.flatMap((f) => (f.flags ?? []).map((fl) => row(`    --${fl.name}${fl.arg ? ` ${fl.arg}` : ''}`, fl.help)))
  return `Usage: ztscan scan [TARGET...] [options]

Scans the targets; with none, scans this machine on loopback.

Targets:
${targets.join('\n')}
  IPv6 hosts in brackets, e.g. [::1]:8443

Scan options:
  -c, --config FILE           config file (default: the nearest ztscan.config.yaml|yml|json or .ztscan.yaml)
  -t, --targets FILE          YAML/JSON list of targets, or { targets: [...], settings: {...} } (repeatable)
  -p, --policy FILE           policy (JSON or YAML): enable/disable rules, severities, parameters
  -f, --format FORMAT         ${wrap(`${formats.map((f) => f.name).join(' | ')} (repeatable); goes to stdout, or to an -o FILE whose extension does not say the format`)}
  -o, --output FILE           ${wrap(`write a report to FILE (repeatable); the name's ending picks the format: ${formats.filter((f) => f.extensions.length).map((f) => `${f.extensions.join(' ')} (${f.name})`).join(', ')}`)}
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
                              scans chain, and files never cause network traffic
      --no-chain              chain nothing (not even from live scans)
      --shard I/N             scan only shard I of N (stable hash of target ids)
      --category NAME         SARIF automationDetails category (GitHub code scanning)
      --sarif-max-results N   most SARIF results per run (default 25,000, GitHub's limit; beyond it results are grouped
                              per host, then per rule, highest severity kept finest; also kept under 10 MB gzip)
      --include-passed        store every passing result as a finding in JSON/JSONL (default: passes are counted per
                              rule, target and host in passCounts; the score is the same)
      --plugin MODULE         load extra families or checks: a module exporting { families, checks, rules } (repeatable)
      --progress MODE         auto (default: tty on a terminal, plain otherwise) | tty (one line redrawn, at most
                              10 times a second) | plain (a line every --progress-interval, default 10s) | none
      --verbose               one line per target with its verdict, on stderr
      --debug                 the checks' debug log on stderr (secrets redacted)
  -q, --quiet                 no progress or notes on stderr
  -h, --help                  this text
  -V, --version               ztscan's version

Family options:
${flags.join('\n')}

${EXIT_TEXT}`
}


const COMMAND_HELP: Readonly<Record<string, string>> = {
  scan: '',
  demo: `Usage: ztscan demo [options]

Starts a throwaway lab of flawed services and exports on loopback and in a temp folder, scans it and stops it.
Takes every scan option except targets (ztscan help scan), e.g. -o demo.json, --fail-on none, -q.

${EXIT_TEXT}`,
  rules: `Usage: ztscan rules [options]

Lists every rule: id, severity, pillar and title, after the policy.

Options:
  -f, --format FORMAT         table (default) | json
  -p, --policy FILE           show severities and enabled state as this policy sets them (as the scan applies it)
      --severity LIST         mark rules at other severities disabled (as ztscan scan --severity would)
      --only RULE|FAMILY      mark all other rules disabled (repeatable or comma-separated)
      --skip RULE|FAMILY      mark these rules or families disabled
      --plugin MODULE         also list a plugin's rules (repeatable)
  -h, --help                  this text
  -V, --version               ztscan's version
`,
  merge: `Usage: ztscan merge PART... [options]

Joins sharded reports (all JSON reports or all SARIF logs, from ztscan scan --shard I/N) into one report with one score.

Options:
  -o, --output FILE           write the merged report to FILE (repeatable); .json, .sarif, .md, .html pick the format
  -f, --format FORMAT         the format for stdout or an -o FILE without a known extension (repeatable; default: table)
      --category NAME         SARIF automationDetails category
      --sarif-max-results N   most SARIF results per run (default 25,000, GitHub's limit; beyond it results are grouped,
                              as scan does, and stderr says so)
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

/**
 * A command's help text (undefined for an unknown command); `scan` lists the families' targets and flags and the report
 * formats (the CLI loads them only for that help).
 */
export function commandHelp(cmd: string, scan?: { families: readonly FamilyHelp[]; formats: FormatNames }): string | undefined {
  if (cmd === 'scan') return scan && scanHelp(scan.families, scan.formats)
  return Object.hasOwn(COMMAND_HELP, cmd) ? COMMAND_HELP[cmd] : undefined
}

export { UsageError } from '../errors.ts'
