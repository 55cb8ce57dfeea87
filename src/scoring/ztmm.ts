/**
 * @fileoverview The functions of each pillar of the CISA Zero Trust Maturity Model v2.0 (April 2023), for coverage:
 * a rule names the functions it judges (`functions` in `rules/<id>.json`); a pillar's coverage says which were judged.
 */
import type { Pillar } from '../types.ts'

/** ZTMM v2.0 functions per pillar: id (used in rule files) and name (as the model writes it). */
export const ZTMM_FUNCTIONS: Readonly<Record<Pillar, readonly { readonly id: string; readonly name: string }[]>> = {
  identity: [
    { id: 'authentication', name: 'Authentication' },
    { id: 'identity-stores', name: 'Identity Stores' },
    { id: 'risk-assessments', name: 'Risk Assessments' },
    { id: 'access-management', name: 'Access Management' },
  ],
  devices: [
    { id: 'policy-enforcement-compliance-monitoring', name: 'Policy Enforcement & Compliance Monitoring' },
    { id: 'asset-supply-chain-risk-management', name: 'Asset & Supply Chain Risk Management' },
    { id: 'resource-access', name: 'Resource Access' },
    { id: 'device-threat-protection', name: 'Device Threat Protection' },
  ],
  networks: [
    { id: 'network-segmentation', name: 'Network Segmentation' },
    { id: 'network-traffic-management', name: 'Network Traffic Management' },
    { id: 'traffic-encryption', name: 'Traffic Encryption' },
    { id: 'network-resilience', name: 'Network Resilience' },
  ],
  applications: [
    { id: 'application-access', name: 'Application Access' },
    { id: 'application-threat-protections', name: 'Application Threat Protections' },
    { id: 'accessible-applications', name: 'Accessible Applications' },
    { id: 'secure-application-development', name: 'Secure Application Development & Deployment Workflow' },
    { id: 'application-security-testing', name: 'Application Security Testing' },
  ],
  data: [
    { id: 'data-inventory-management', name: 'Data Inventory Management' },
    { id: 'data-categorization', name: 'Data Categorization' },
    { id: 'data-availability', name: 'Data Availability' },
    { id: 'data-access', name: 'Data Access' },
    { id: 'data-encryption', name: 'Data Encryption' },
  ],
}
