/**
 * @fileoverview Pure parsers of what the macOS posture commands print (posture/commands.ts), written from Apple's documented
 * and commonly published output formats; the test fixtures (fixtures/endpoint-agent/posture/darwin/) name the command that
 * produces each. Lines are bounded; matching is plain string work.
 */
import { boundedLines } from '../catalogue.ts'

function lines(text: string): string[] {
  return boundedLines(text).split('\n').slice(0, 20_000)
}

/** `fdesetup status`: FileVault on/off, and a conversion in progress. */
export function fileVault(text: string): { on: boolean; detail: string } | undefined {
  const all = lines(text).map((l) => l.trim()).filter(Boolean)
  const head = all.find((l) => l.startsWith('FileVault is '))
  if (!head) return undefined
  const progress = all.find((l) => l.startsWith('Encryption in progress') || l.startsWith('Decryption in progress'))
  const on = head.startsWith('FileVault is On') && !progress?.startsWith('Decryption')
  return { on, detail: [head, progress].filter(Boolean).join('; ').slice(0, 200) }
}

/** `socketfilterfw --getglobalstate` ("Firewall is enabled. (State = 1)"); State 1 = on, 2 = on for essential services only. */
export function appFirewall(text: string): { enabled: boolean; state: string } | undefined {
  const line = lines(text).map((l) => l.trim()).find((l) => l.startsWith('Firewall is '))
  if (!line) return undefined
  return { enabled: line.startsWith('Firewall is enabled') || line.startsWith('Firewall is blocking'), state: line.slice(0, 120) }
}

/** `socketfilterfw --getblockall`: whether every incoming connection is blocked (both the old and the newer wording). */
export function appFirewallBlockAll(text: string): boolean | undefined {
  const t = lines(text).join(' ').toLowerCase()
  if (t.includes('block all enabled') || t.includes('block all non-essential') || t.includes('block all state set to enabled')) return true
  if (t.includes('block all disabled') || t.includes('block all state set to disabled')) return false
  return undefined
}

/** One update `softwareupdate -l` lists. */
export interface MacUpdate {
  readonly label: string
  readonly title: string
  readonly recommended: boolean
}

/** `softwareupdate -l` → the listed updates (`* Label: …` then a `Title: …, Recommended: YES, …` line); [] for "No new software available." */
export function macUpdates(text: string): MacUpdate[] | undefined {
  const all = lines(text)
  if (all.some((l) => l.includes('No new software available'))) return []
  if (!all.some((l) => l.includes('Software Update found the following'))) return undefined
  const out: MacUpdate[] = []
  for (let i = 0; i < all.length; i++) {
    const l = all[i]!.trim()
    if (!l.startsWith('* Label: ')) continue
    const next = (all[i + 1] ?? '').trim()
    const fields = new Map(next.split(', ').map((kv) => [kv.slice(0, kv.indexOf(':')).trim(), kv.slice(kv.indexOf(':') + 1).trim()]))
    out.push({ label: l.slice(9, 209), title: (fields.get('Title') ?? '').slice(0, 200), recommended: (fields.get('Recommended') ?? '').startsWith('YES') })
  }
  return out
}

/** `sw_vers` → ProductName / ProductVersion. */
export function swVers(text: string): { name: string; version: string } | undefined {
  const m = new Map<string, string>()
  for (const l of lines(text)) {
    const c = l.indexOf(':')
    if (c > 0) m.set(l.slice(0, c).trim(), l.slice(c + 1).trim().slice(0, 60))
  }
  const version = m.get('ProductVersion')
  return version ? { name: m.get('ProductName') ?? 'macOS', version } : undefined
}

/** `defaults read /Library/Preferences/com.apple.SoftwareUpdate` → its `Key = value;` pairs. */
export function plistDefaults(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const l of lines(text)) {
    const t = l.trim()
    const eq = t.indexOf(' = ')
    if (eq > 0 && t.endsWith(';')) out.set(t.slice(0, eq).replace(/^"|"$/g, ''), t.slice(eq + 3, -1).replace(/^"|"$/g, '').slice(0, 100))
  }
  return out
}

/** `sysadminctl -screenLock status` (printed on stderr): delay in seconds, 0 = immediate, `off`. */
export function screenLock(text: string): { on: boolean; delaySeconds?: number; state: string } | undefined {
  const l = lines(text).find((x) => x.includes('screenLock '))
  if (!l) return undefined
  const t = l.slice(l.indexOf('screenLock ')).trim().slice(0, 120)
  if (t.startsWith('screenLock is off')) return { on: false, state: t }
  if (t.startsWith('screenLock delay is immediate')) return { on: true, delaySeconds: 0, state: t }
  const m = /^screenLock delay is ([0-9]{1,9}) seconds?/.exec(t)
  return m ? { on: true, delaySeconds: Number(m[1]), state: t } : undefined
}

/** `systemsetup -getusingnetworktime` ("Network Time: On"). */
export function networkTime(text: string): boolean | undefined {
  const l = lines(text).map((x) => x.trim()).find((x) => x.startsWith('Network Time:'))
  if (!l) return undefined
  const v = l.slice('Network Time:'.length).trim()
  return v === 'On' ? true : v === 'Off' ? false : undefined
}
