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
  /**
   * Security advisories with an update available (dnf 4 and 5: Fedora, RHEL and rebuilds, Amazon Linux 2023). dnf refreshes
   * repository metadata that is older than its metadata_expire (as `dnf check-update` would): the list is that fresh.
   */
  'dnf-security': ['dnf', '-q', 'updateinfo', 'list', '--security'],
  /**
   * Needed security patches (SUSE, openSUSE), as XML. zypper refreshes repositories marked autorefresh when their metadata
   * expired (root only: otherwise it warns that a repository is out of date, which the control counts as stale).
   */
  'zypper-patches': ['zypper', '--non-interactive', '--xmlout', 'list-patches', '--category', 'security'],
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
  // osquery (Linux and macOS, where osqueryi is installed): fixed SQL, as Fleet's disk encryption policies query it
  /** The volume mounted on / and its encryption (osquery's disk_encryption: dm-crypt on Linux, FileVault on macOS). */
  'osquery-root-encryption': ['osqueryi', '--json', "SELECT m.path, m.device_alias, d.encrypted, d.type, d.encryption_status FROM mounts m JOIN disk_encryption d ON m.device_alias = d.name WHERE m.path = '/'"],
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

/**
 * The Windows posture commands, sent to a Windows OpenSSH server as ONE fixed command line (its default shell, cmd.exe or
 * PowerShell, runs it). No `LC_ALL=C` and no single quotes there: each is an executable and fixed arguments, a PowerShell
 * script being one double-quoted argument of `powershell -NoProfile -NonInteractive -Command`. The script text is restricted
 * to letters, digits, space and `,.|:\_-` (tested): no quote, `$`, `%`, backtick, `;`, `&`, `^`, `!`, `<`, `>` or parenthesis,
 * so neither cmd.exe nor PowerShell can expand or split anything in it. The key protectors (recovery passwords) of
 * Get-BitLockerVolume are never selected.
 */
export const WINDOWS_COMMANDS = {
  /** Caption, version and build: "Microsoft Windows 11 Pro", "10.0.22631". Also tells a Windows host apart. */
  'win-os': { powershell: 'Get-CimInstance -ClassName Win32_OperatingSystem | Select-Object Caption,Version,BuildNumber | ConvertTo-Json' },
  /** BitLocker state of every volume (needs an administrator), without the key protectors. */
  'win-bitlocker': { powershell: 'Get-BitLockerVolume | Select-Object MountPoint,VolumeType,VolumeStatus,ProtectionStatus,EncryptionPercentage,LockStatus | ConvertTo-Json' },
  /** The same from manage-bde (English output; needs an administrator). */
  'manage-bde': { exe: ['manage-bde', '-status'] },
  /** The effective (ActiveStore: local and group policy merged) state of the Domain, Private and Public profiles. */
  'win-firewall': { powershell: 'Get-NetFirewallProfile -PolicyStore ActiveStore | Select-Object Name,Enabled,DefaultInboundAction | ConvertTo-Json' },
  /** Installed updates with their install date (Win32_QuickFixEngineering through Get-HotFix). */
  'win-hotfix': { powershell: 'Get-HotFix | Select-Object HotFixID,Description,InstalledOn | ConvertTo-Json' },
  /** Windows Update policy (group policy / MDM): NoAutoUpdate, AUOptions. Absent when no policy sets it. */
  'win-au-policy': { powershell: 'Get-ItemProperty -Path HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate\\AU | Select-Object NoAutoUpdate,AUOptions | ConvertTo-Json' },
} as const satisfies Record<string, { readonly powershell: string } | { readonly exe: readonly string[] }>

export type WindowsCommand = keyof typeof WINDOWS_COMMANDS

/** What a Windows PowerShell script may contain (nothing a shell expands or splits on). */
export const WINDOWS_SCRIPT = /^[A-Za-z0-9 ,.|:\\_-]{1,400}$/

function windowsEntry(name: WindowsCommand): { readonly powershell: string } | { readonly exe: readonly string[] } {
  if (!Object.hasOwn(WINDOWS_COMMANDS, name)) throw new TypeError(`no Windows posture command "${String(name).slice(0, 40)}"`)
  const e = WINDOWS_COMMANDS[name]
  if ('powershell' in e && !WINDOWS_SCRIPT.test(e.powershell)) throw new TypeError(`Windows posture command ${name}: script outside ${WINDOWS_SCRIPT}`)
  return e
}

/** The argv of a Windows posture command (for a runner that executes argv). */
export function windowsArgv(name: WindowsCommand): string[] {
  const e = windowsEntry(name)
  return 'powershell' in e ? ['powershell', '-NoProfile', '-NonInteractive', '-Command', e.powershell] : [...e.exe]
}

/** The one command line sent to a Windows OpenSSH server: fixed words, the script double-quoted. */
export function windowsCommandLine(name: WindowsCommand): string {
  const e = windowsEntry(name)
  return 'powershell' in e ? `powershell -NoProfile -NonInteractive -Command "${e.powershell}"` : e.exe.join(' ')
}
