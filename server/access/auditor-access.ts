import type { Caller } from './caller.js';

/**
 * Privacy auditors audit the use of the system by their own organization's users (the seeds' Terms of Use): an
 * auditor who is not also an administrator reaches only the AuditEvents with their organization among the agents,
 * as the search restriction `agent=Organization/O`. Undefined when no such limit applies; an auditor without an
 * organization reaches no AuditEvent (null).
 */
export function auditorRestriction(caller: Caller, type: string): Record<string, string[]> | null | undefined {
  if (type !== 'AuditEvent' || caller.kind !== 'user' || !caller.role) return undefined;
  const roles = caller.role.roles;
  if (!roles.includes('privacy-auditor') || roles.includes('administrator')) return undefined;
  return caller.organization ? { agent: [`Organization/${caller.organization}`] } : null;
}
