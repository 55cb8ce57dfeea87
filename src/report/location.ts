/**
 * @fileoverview Maps a target id to the relative, scheme-less, colon-free URI GitHub code scanning accepts for a
 * non-file target (see README "SARIF and GitHub"): `tls://[::1]:8443?sni=a.test` -> `ztscan/tls/--1/8443/sni-a.test`.
 */

/** Colon-free relative URI for a target id. */
export function targetUri(targetId: string): string {
  const s = targetId
    .replace(/^([a-z][a-z0-9+-]*):\/\//, '$1/')
    .replace(/\[([0-9a-fA-F:.]+)\]/g, (_, v6: string) => v6.replace(/:/g, '-'))
    .replace(/\?sni=/, '/sni-')
    .replace(/:/g, '/')
    .replace(/[^A-Za-z0-9._/-]+/g, '_')
    .replace(/\/{2,}/g, '/')
    .replace(/(^|\/)\.\.(?=\/|$)/g, '$1__')
    .replace(/^\/+/, '')
  return `ztscan/${s}`
}
