/**
 * @fileoverview Pure parsers of the pending security updates dnf and zypper list (posture/commands.ts `dnf-security`,
 * `zypper-patches`), written from their documented output; fixtures in fixtures/endpoint-agent/posture/linux/ name the
 * command of each. Lines are bounded; matching is linear (a tag is found with indexOf, attributes with a bounded regex).
 */
import { boundedLines } from '../catalogue.ts'

/** One pending security fix: the advisory or patch and the package (or patch summary) it updates. */
export interface SecurityUpdate {
  readonly advisory: string
  readonly severity: string
  readonly pkg: string
}

const TOKEN = /^[A-Za-z0-9][A-Za-z0-9._:+~^@/-]{0,199}$/

/**
 * `dnf -q updateinfo list --security`: dnf 4 prints `ADVISORY  Severity/Sec.  NEVRA` per line (no header with -q); dnf 5
 * prints a `Name Type Severity Package Issued` header, then `ADVISORY security Severity NEVRA DATE TIME`. Nothing at all
 * means no pending security advisory. Undefined when a non-empty output has no line of either form.
 */
export function dnfSecurity(text: string): SecurityUpdate[] | undefined {
  const lines = boundedLines(text).split('\n').slice(0, 50_000).map((l) => l.trim()).filter(Boolean)
  if (!lines.length) return []
  const out: SecurityUpdate[] = []
  let known = 0
  for (const l of lines) {
    const f = l.split(/\s+/, 8)
    if (f[0] === 'Name' && f[1] === 'Type' && f[2] === 'Severity') {
      known++
      continue
    }
    // dnf 4: FEDORA-2024-3c1f2b1a1d Moderate/Sec. curl-8.6.0-8.fc40.x86_64
    if (f.length === 3 && f[1]!.endsWith('/Sec.') && TOKEN.test(f[0]!) && TOKEN.test(f[2]!)) {
      out.push({ advisory: f[0]!, severity: f[1]!.slice(0, -5).slice(0, 20), pkg: f[2]! })
      continue
    }
    // dnf 5: FEDORA-2024-3c1f2b1a1d security Moderate curl-8.6.0-8.fc40.x86_64 2024-05-10 01:23:45
    if (f.length >= 4 && f[1] === 'security' && TOKEN.test(f[0]!) && TOKEN.test(f[3]!)) out.push({ advisory: f[0]!, severity: f[2]!.slice(0, 20), pkg: f[3]! })
  }
  return out.length || known ? out : undefined
}

/** The value of attribute `name` in one XML start tag (bounded: attributes are short in zypper's output). */
function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}="([^"]{0,200})"`).exec(tag)
  return m?.[1]
}

/**
 * `zypper --non-interactive --xmlout list-patches --category security`: the `<update kind="patch" …>` tags inside
 * `<update-list>` (needed patches; a `status` other than `needed` is not counted), and the repositories zypper warned are
 * out of date (`<message type="warning">Repository '…' is out-of-date…`). Undefined without `<update-status`.
 */
export function zypperPatches(text: string): { updates: SecurityUpdate[]; outOfDate: string[] } | undefined {
  const t = text.slice(0, 16 * 1024 * 1024)
  const start = t.indexOf('<update-status')
  if (start < 0) return undefined
  const outOfDate: string[] = []
  for (let i = t.indexOf('<message type="warning">'); i >= 0 && outOfDate.length < 20; i = t.indexOf('<message type="warning">', i + 10)) {
    const msg = t.slice(i + 24, Math.min(t.indexOf('</message>', i) >>> 0, i + 400))
    const m = /^Repository '([^']{1,100})' is out-of-date/.exec(msg)
    if (m) outOfDate.push(m[1]!)
  }
  const listAt = t.indexOf('<update-list', start)
  if (listAt < 0) return { updates: [], outOfDate }
  const listEnd = t.indexOf('</update-list>', listAt)
  const list = t.slice(listAt, listEnd < 0 ? undefined : listEnd)
  const out: SecurityUpdate[] = []
  for (let i = list.indexOf('<update '); i >= 0 && out.length < 100_000; i = list.indexOf('<update ', i + 8)) {
    const end = list.indexOf('>', i)
    if (end < 0) break
    const tag = list.slice(i, Math.min(end, i + 4000))
    if (attr(tag, 'kind') !== 'patch') continue
    const status = attr(tag, 'status')
    if (status !== undefined && status !== 'needed') continue
    const category = attr(tag, 'category')
    if (category !== undefined && category !== 'security') continue
    out.push({ advisory: (attr(tag, 'name') ?? '?').slice(0, 120), severity: (attr(tag, 'severity') ?? 'unspecified').slice(0, 20), pkg: (attr(tag, 'name') ?? '?').slice(0, 120) })
  }
  return { updates: out, outOfDate }
}
