/**
 * @fileoverview The mfa family (declared in family.ts, which every scan loads; its checks' code loads when one runs).
 */
export { default, idpExport, oidc, ssh } from './family.ts'
