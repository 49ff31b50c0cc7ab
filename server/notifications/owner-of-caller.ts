import type { Caller } from '../access/caller.js';
import type { SubscriptionOwner } from '../subscriptions/model.js';

/**
 * Who a Subscription written by `caller` acts for. Only what identifies the caller and bounds their rights is kept:
 * the access check rebuilds the rest as it is at each decision (server/notifications/access-check.ts), so a user
 * moved to another organization, or a client whose registration ended, is decided as they are then.
 */
export function ownerOfCaller(caller: Caller): SubscriptionOwner {
  if (caller.kind === 'unrestricted') return { kind: 'server', scopes: [] };
  return {
    kind: 'client',
    ...(caller.clientId !== undefined ? { clientId: caller.clientId } : {}),
    ...(caller.userId !== undefined ? { userId: caller.userId } : {}),
    scopes: caller.scopes.map((scope) => scope.text),
    ...(caller.organization !== undefined ? { organization: caller.organization } : {}),
    ...(caller.practitioner !== undefined ? { practitioner: caller.practitioner } : {}),
    ...(caller.practitionerRole !== undefined ? { practitionerRole: caller.practitionerRole } : {}),
    ...(caller.patient !== undefined ? { patient: caller.patient } : {}),
  };
}
