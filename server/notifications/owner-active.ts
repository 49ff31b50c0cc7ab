import { partiesState } from '../store/auth-activity.js';
import type { Database } from '../store/database.js';
import type { SubscriptionOwner } from '../subscriptions/model.js';

/**
 * Whether a subscription's owner may still be told anything at all: its client, and its user when there is one,
 * still active (the same query a token's use asks). A websocket bound for an owner that is not is closed.
 */
export async function ownerActive(db: Database, owner: SubscriptionOwner): Promise<boolean> {
  if (owner.kind === 'server') return true;
  if (owner.kind === 'organization' || owner.clientId === undefined) return false;
  const state = await partiesState(db, owner.clientId, owner.userId);
  return state.clientActive && state.userActive;
}
