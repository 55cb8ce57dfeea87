/**
 * @fileoverview The built-in families' input checks, run by `scan()` before the first probe (see src/engine/preflight.ts):
 * SSH settings and key/known_hosts files, CA bundles (settings and the certificate-untrusted parameter), the operator agent
 * catalogue, agent ids in the policy, OIDC tokens files and JWKS origins. Each problem names the setting or the policy
 * field. (When families register their settings schemas, each part moves to its family.)
 */
import type ssh2Types from 'ssh2'
import { lazyModule } from '../src/lib-lazy.ts'
import { AttemptFailure, InputError, OptionsError, PolicyError, ZtscanError } from '../src/errors.ts'
import { inputFileProblem, type InputCheck, type PreflightInput } from '../src/engine/preflight.ts'
import { readBounded, readFileCapped } from '../src/lib-files.ts'
import { sshSettings } from '../src/net/ssh-settings.ts'
import endpointAgentFamily from './endpoint-agent/family.ts'

const ssh2 = lazyModule<typeof ssh2Types>('ssh2')

const MAX_KEY_FILE = 64 * 1024
/** Target kinds the endpoint-agent family's checks run on. */
const ENDPOINT_AGENT_KINDS: ReadonlySet<string> = new Set(endpointAgentFamily.checks.flatMap((c) => c.targetKinds))

/** A problem in a rule parameter: names the policy file and pointer when the policy set it, the rule default otherwise. */
function paramProblem(input: PreflightInput, ruleId: string, name: string, sub: string, expected: string, actual?: unknown): ZtscanError {
  const set = input.policy?.rules[ruleId]?.parameters?.[name] !== undefined
  const pointer = `/rules/${ruleId}/parameters/${name}${sub}`
  if (set && input.policy) return new PolicyError(input.policy.source, [{ pointer, expected, actual }])
  return new OptionsError(`rule ${ruleId} parameter ${name}${sub}`, `expected ${expected}${actual === undefined ? '' : ` (got ${JSON.stringify(actual)})`}`)
}

const failureText = (err: unknown): string => (err instanceof Error ? err.message : String(err))

/**
 * A family's code an input check loads when it needs it; a failure to load it (a broken install) is a problem of its own,
 * named as such, not one of the file or field the check was reading.
 */
async function loadPart<T>(what: string, load: () => Promise<T>): Promise<T | ZtscanError> {
  try {
    return await load()
  } catch (err) {
    return new OptionsError('preflight', `cannot load ${what} (${failureText(err)})`)
  }
}

const ssh: InputCheck = async ({ settings }) => {
  let s
  try {
    s = sshSettings(settings)
  } catch (err) {
    const m = /^(settings\.[\w.[\]]+): (.*)$/s.exec(failureText(err))
    return [new OptionsError(m?.[1] ?? 'settings.ssh', m?.[2] ?? failureText(err))]
  }
  const out: ZtscanError[] = []
  if (s.knownHostsPath) {
    const p = await inputFileProblem(s.knownHostsPath)
    if (p) out.push(new OptionsError('settings.ssh.knownHostsPath', `${s.knownHostsPath}: ${p}`))
  }
  if (s.privateKeyPath) {
    try {
      const key = await readBounded(s.privateKeyPath, MAX_KEY_FILE)
      const parsed = ssh2.utils.parseKey(key, s.passphrase)
      // ssh2's messages name the key format, never the key text.
      if (parsed instanceof Error) out.push(new OptionsError('settings.ssh.privateKeyPath', `${s.privateKeyPath}: not a private key ssh2 can use (${parsed.message})`))
    } catch (err) {
      out.push(new OptionsError('settings.ssh.privateKeyPath', `${s.privateKeyPath}: ${failureText(err)}`))
    }
  }
  return out
}

const tls: InputCheck = async (input) => {
  const out: ZtscanError[] = []
  const raw = (input.settings.tls ?? undefined) as unknown
  const files: { file: string; error: (m: string) => ZtscanError }[] = []
  if (raw !== undefined) {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return [new OptionsError('settings.tls', 'expected an object')]
    const ca = (raw as { caFile?: unknown }).caFile
    const list = ca === undefined ? [] : Array.isArray(ca) ? ca : [ca]
    list.forEach((f, i) => {
      const field = Array.isArray(ca) ? `settings.tls.caFile[${i}]` : 'settings.tls.caFile'
      if (typeof f !== 'string' || !f) out.push(new OptionsError(field, 'expected a file path'))
      else files.push({ file: f, error: (m) => new OptionsError(field, m) })
    })
  }
  const param = input.rules.get('certificate-untrusted')?.values.caFile
  if (typeof param === 'string' && param) files.push({ file: param, error: (m) => paramProblem(input, 'certificate-untrusted', 'caFile', '', `a readable CA bundle: ${m}`) })
  // The certificate reader loads only when there is a CA file to read.
  const chain = files.length ? await loadPart('the certificate reader', () => import('./certificate/chain.ts')) : undefined
  if (chain instanceof ZtscanError) return [...out, chain]
  for (const { file, error } of files) {
    const problem = await inputFileProblem(file)
    if (problem) {
      out.push(error(`${file}: ${problem}`))
      continue
    }
    try {
      const store = await chain!.loadAnchors([file], false, readBounded)
      if (store.size === 0) out.push(error(`${file}: holds no certificate`))
    } catch (err) {
      out.push(error(failureText(err)))
    }
  }
  return out
}

const endpointAgent: InputCheck = async (input) => {
  const raw = input.settings.endpointAgent
  let path: string | undefined
  if (raw !== undefined) {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return [new OptionsError('settings.endpointAgent', 'expected an object')]
    const c = (raw as { catalogue?: unknown }).catalogue
    if (c !== undefined && (typeof c !== 'string' || !c)) return [new OptionsError('settings.endpointAgent.catalogue', 'expected a file path')]
    path = c as string | undefined
  }
  if (path) {
    const problem = await inputFileProblem(path)
    if (problem) return [new OptionsError('settings.endpointAgent.catalogue', `${path}: ${problem}`)]
  }
  const required = input.rules.get('endpoint-agent-missing')?.values.required
  const minVersions = input.rules.get('endpoint-agent-outdated')?.values.minVersions
  // The built-in catalogue with the rules' default parameters needs no reading before the scan (the build's tests check
  // them against each other); an operator catalogue, agent ids a policy names, or a scan of the family's targets do.
  const policySets = (rule: string, name: string): boolean => input.policy?.rules[rule]?.parameters?.[name] !== undefined
  if (!path && !policySets('endpoint-agent-missing', 'required') && !policySets('endpoint-agent-outdated', 'minVersions') && !input.targets.some((t) => ENDPOINT_AGENT_KINDS.has(t.kind))) return []
  const part = await loadPart('the endpoint-agent catalogue reader', () => import('./endpoint-agent/catalogue.ts'))
  if (part instanceof ZtscanError) return [part]
  const { agentsFor, loadCatalogue } = part
  let catalogue
  try {
    catalogue = await loadCatalogue(path)
  } catch (err) {
    return [new OptionsError('settings.endpointAgent.catalogue', err instanceof AttemptFailure ? err.message : failureText(err))]
  }
  const out: ZtscanError[] = []
  if (Array.isArray(required))
    required.forEach((req, i) => {
      if (typeof req === 'string' && !agentsFor(req, catalogue).length)
        out.push(paramProblem(input, 'endpoint-agent-missing', 'required', `/${i}`, 'a catalogue agent id or category:NAME (see checks/endpoint-agent/catalogue.json or --agent-catalogue)', req))
    })
  if (minVersions && typeof minVersions === 'object')
    for (const key of Object.keys(minVersions)) {
      const id = key.split('/')[0]!
      if (!catalogue.some((a) => a.id === id)) out.push(paramProblem(input, 'endpoint-agent-outdated', 'minVersions', `/${key}`, 'a key naming a catalogue agent id (optionally /linux, /darwin or /windows)'))
    }
  return out
}

const oidc: InputCheck = async (input) => {
  const out: ZtscanError[] = []
  await Promise.all(
    input.targets.map(async (t) => {
      if (t.kind !== 'oidc' || typeof t.tokensFile !== 'string') return
      const problem = await inputFileProblem(t.tokensFile)
      if (problem) out.push(new InputError(t.id, `tokens file ${t.tokensFile}: ${problem}`))
    }),
  )
  const origins = input.rules.get('mfa-oidc-weak-jwks-key')?.values.allowedJwksOrigins
  if (Array.isArray(origins))
    origins.forEach((o, i) => {
      let ok = false
      try {
        const u = new URL(String(o))
        ok = (u.protocol === 'https:' || u.protocol === 'http:') && u.origin !== 'null'
      } catch {
        ok = false
      }
      if (!ok) out.push(paramProblem(input, 'mfa-oidc-weak-jwks-key', 'allowedJwksOrigins', `/${i}`, 'an http(s) origin such as https://keys.example.com', o))
    })
  return out
}

/** `aws-iam://` targets: the endpoints in settings.aws and a credential source of the default chain (no network call). */
const awsIam: InputCheck = async (input) => {
  const target = input.targets.find((t) => t.kind === 'identity-live' && t.provider === 'aws')
  if (!target) return []
  const { awsPlaces } = await import('./mfa/live/aws.ts')
  const { awsCredentialSource } = await import('./mfa/live/aws-credentials.ts')
  const s = (input.settings.aws ?? {}) as Parameters<typeof awsPlaces>[0]
  try {
    awsPlaces(s)
    await awsCredentialSource(s, readFileCapped)
    return []
  } catch (err) {
    if (err instanceof AttemptFailure) return [new InputError(target.id, err.message)]
    throw err
  }
}

/** `--port-scanner nmap` (settings.portScan.scanner) for host:// targets needs nmap on the PATH: said before any probe. */
const portScanner: InputCheck = async ({ settings, targets }) => {
  const scanner = (settings.portScan as { scanner?: unknown } | undefined)?.scanner
  if (scanner !== 'nmap' || !targets.some((t) => t.kind === 'host')) return []
  const { findNmap } = await import('./open-port/nmap-scan.ts')
  return findNmap() ? [] : [new OptionsError('settings.portScan.scanner', 'nmap is not on the PATH (install nmap, or use auto or builtin)')]
}

/** The input checks of the built-in families. */
export const builtinInputChecks: readonly InputCheck[] = [ssh, tls, endpointAgent, oidc, awsIam, portScanner]
