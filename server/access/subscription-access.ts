import { OWNER_TAG_SYSTEM, ownerCode } from '../subscriptions/owner.js';
import type { Caller } from './caller.js';

/**
 * A Subscription is its owner's alone (server/subscriptions/owner.ts): its channel may name the receiver's
 * credentials, and its status and events speak of what only the owner may know of. Whatever their scopes and role,
 * callers reach only the Subscriptions tagged with themselves as owner, as the search restriction
 * `_tag=owner-system|code`; undefined for other types.
 */
export function subscriptionOwnerRestriction(caller: Caller, type: string): Record<string, string[]> | undefined {
  if (type !== 'Subscription' || caller.kind === 'unrestricted') return undefined;
  const code = ownerCode({
    kind: 'client',
    ...(caller.clientId !== undefined ? { clientId: caller.clientId } : {}),
    ...(caller.userId !== undefined ? { userId: caller.userId } : {}),
    scopes: [],
  });
  return { _tag: [`${OWNER_TAG_SYSTEM}|${code}`] };
}
