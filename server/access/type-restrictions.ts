import { auditorRestriction } from './auditor-access.js';
import type { Caller } from './caller.js';
import { subscriptionOwnerRestriction } from './subscription-access.js';

/**
 * The limits a type puts on what a caller reaches of it, whatever their scopes: a privacy auditor's
 * organization's AuditEvents (auditor-access.ts), a caller's own Subscriptions (subscription-access.ts). As search
 * parameters; null when nothing of the type is reachable; undefined when no such limit applies.
 */
export function typeRestriction(caller: Caller, type: string): Record<string, string[]> | null | undefined {
  return auditorRestriction(caller, type) ?? subscriptionOwnerRestriction(caller, type);
}
