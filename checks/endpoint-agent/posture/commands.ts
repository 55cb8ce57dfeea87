/**
 * @fileoverview The device-posture commands: a FIXED list of read-only argv, with no variable part at all (nothing from a
 * target, a file or the catalogue). `probe.ts` runs them through the same runners as the agent probes (execFile locally,
 * every word single-quoted over SSH). Each entry says what it reads and on which OS.
 */

/** Every posture command by name; the argv is constant. */
export const POSTURE_COMMANDS = {
  // Linux
  /** Container markers (Docker, Podman): which of these files exist (`ls` exits 2 when one is missing). */
  'container-markers': ['ls', '-1d', '--', '/.dockerenv', '/run/.containerenv'],
  /** Block devices as a tree (disk → partition → crypt/lvm), to find whether `/` sits on dm-crypt. Needs no root. */
  lsblk: ['lsblk', '-J', '-o', 'NAME,TYPE,FSTYPE,MOUNTPOINT'],
  /** The nftables ruleset as JSON (needs CAP_NET_ADMIN: root). */
  nft: ['nft', '-j', 'list', 'ruleset'],
  /** The IPv4/IPv6 netfilter rules (iptables-legacy or iptables-nft; root). */
  'iptables-save': ['iptables-save'],
  'ip6tables-save': ['ip6tables-save'],
  /** The upgrades apt would install now (simulation: no lock, no change; works without root). */
  'apt-upgrades': ['apt-get', '-s', '-o', 'Debug::NoLocking=1', 'dist-upgrade'],
  /** apt's merged configuration (APT::Periodic::Unattended-Upgrade). */
  'apt-config': ['apt-config', 'dump'],
  /** Seconds since the epoch at which the package lists last changed (`apt update` that fetched something). */
  'apt-lists-age': ['stat', '-c', '%Y', '--', '/var/lib/apt/lists'],
  /** systemd-timesyncd/timedated state (NTP=, NTPSynchronized=). */
  timedatectl: ['timedatectl', 'show'],
  /** chrony's tracking state (Leap status). */
  chronyc: ['chronyc', '-n', 'tracking'],
  /** GNOME screen lock for the scanning user. */
  'gsettings-lock': ['gsettings', 'get', 'org.gnome.desktop.screensaver', 'lock-enabled'],
  'gsettings-idle': ['gsettings', 'get', 'org.gnome.desktop.session', 'idle-delay'],
  // macOS
  /** FileVault state ("FileVault is On."). */
  fdesetup: ['fdesetup', 'status'],
  /** Application firewall state and block-all mode. */
  'socketfilterfw-state': ['/usr/libexec/ApplicationFirewall/socketfilterfw', '--getglobalstate'],
  'socketfilterfw-blockall': ['/usr/libexec/ApplicationFirewall/socketfilterfw', '--getblockall'],
  /** Pending software updates (asks Apple's catalogue; can take tens of seconds). */
  softwareupdate: ['softwareupdate', '-l'],
  /** OS product version. */
  'sw-vers': ['sw_vers'],
  /** Automatic update preferences. */
  'softwareupdate-prefs': ['defaults', 'read', '/Library/Preferences/com.apple.SoftwareUpdate'],
  /** Screen lock delay for the scanning user. */
  'screen-lock': ['sysadminctl', '-screenLock', 'status'],
  /** Network time on/off (root). */
  'network-time': ['systemsetup', '-getusingnetworktime'],
} as const satisfies Record<string, readonly string[]>

export type PostureCommand = keyof typeof POSTURE_COMMANDS

/** Fixed files read with `cat --` (the existing read-file probe). */
export const POSTURE_FILES = {
  osRelease: '/etc/os-release',
  mounts: '/proc/mounts',
  ipv6Disabled: '/proc/sys/net/ipv6/conf/all/disable_ipv6',
} as const

/** The argv of a posture command (a copy). */
export function postureArgv(name: PostureCommand): string[] {
  const argv = (POSTURE_COMMANDS as Record<string, readonly string[]>)[name]
  if (!argv || !Object.hasOwn(POSTURE_COMMANDS, name)) throw new TypeError(`no posture command "${String(name).slice(0, 40)}"`)
  return [...argv]
}
