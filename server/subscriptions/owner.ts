import type { Coding } from 'fhir/r4';
import type { SubscriptionOwner } from './model.js';

/**
 * A Subscription belongs to whoever created it: its channel headers may carry the receiver's credentials, and its
 * `$status`, `$events` and binding tokens speak of events only its owner may know of. The server marks each
 * Subscription it stores with its owner as a `meta.tag`, so that "only the owner's" is an ordinary `_tag` search
 * condition (server/access/subscription-access.ts), decided in SQL like every other restriction.
 */
export const OWNER_TAG_SYSTEM = 'http://ccp-exchange.org/fhir/CodeSystem/subscription-owner';

/** The tag's code: `client/{clientId}`, `client/{clientId}/user/{userId}`, `organization/{id}` or `server`. */
export function ownerCode(owner: SubscriptionOwner): string {
  switch (owner.kind) {
    case 'server':
      return 'server';
    case 'organization':
      return `organization/${owner.organization ?? ''}`;
    default:
      return owner.userId === undefined ? `client/${owner.clientId ?? ''}` : `client/${owner.clientId ?? ''}/user/${owner.userId}`;
  }
}

export function ownerTag(owner: SubscriptionOwner): Coding {
  return { system: OWNER_TAG_SYSTEM, code: ownerCode(owner) };
}
