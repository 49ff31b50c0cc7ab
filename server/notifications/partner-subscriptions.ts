import { isDeepStrictEqual } from 'node:util';
import type { Organization } from 'fhir/r4';
import type { Database } from '../store/database.js';
import { partnerSubscriptionOwners } from '../store/partner-subscription-owners.js';
import type { ResourceStore } from '../store/resource-store.js';
import { PARTNER_TOPICS, partnerSubscriptionId, partnerSubscriptionSpecs } from '../subscriptions/partner-subscriptions.js';

/**
 * Keeps the engine's records of a partner's emails (server/subscriptions/partner-subscriptions.ts) in step with its
 * Organization: the write rule (./partner-email-rule.ts) after every write of one, in that write's transaction, and
 * the reconcile below at start, for organizations written before the rule existed or under another hosting
 * organization.
 */

export interface PartnerSubscriptionChanges {
  /** Records created, or replaced (a new address), or made active again. */
  put: string[];
  removed: string[];
}

/**
 * Makes the records of `organizationId` what its current version (`organization`; undefined once deleted) asks
 * for, through `store` (the caller's transaction). A record already as asked is left alone, its event numbers and
 * queue with it; one the engine put in `error` (the mail server refused the address for good) is made active
 * again only when `reactivate`: a write of the Organization is someone looking at it, a restart is not.
 */
export async function keepPartnerSubscriptions(
  store: ResourceStore,
  organizationId: string,
  organization: Organization | undefined,
  hostingOrganization: string | undefined,
  reactivate: boolean,
): Promise<PartnerSubscriptionChanges> {
  const wanted = new Map(partnerSubscriptionSpecs(organization, hostingOrganization).map((spec) => [spec.id, spec]));
  const changes: PartnerSubscriptionChanges = { put: [], removed: [] };
  for (const topic of PARTNER_TOPICS) {
    const id = partnerSubscriptionId(organizationId, topic);
    const spec = wanted.get(id);
    const state = await store.subscriptionState(id);
    if (!spec) {
      if (state && (await store.removeSubscription(id))) changes.removed.push(id);
      continue;
    }
    const kept = state && isDeepStrictEqual(state.subscription, spec) && (state.status === 'active' || (state.status === 'error' && !reactivate));
    if (kept) continue;
    await store.putSubscription(spec, 'active');
    changes.put.push(id);
  }
  return changes;
}

/**
 * Brings every organization's records in step with its current version (call at start, before the delivery engine
 * runs): idempotent, one short transaction per organization, each under the Organization's own lock, the one its
 * writes take (server/rest/write-rules.ts), so a write in another process meanwhile is never undone with what
 * this read before it.
 */
export async function reconcilePartnerSubscriptions(db: Database, store: ResourceStore, hostingOrganization: string | undefined): Promise<PartnerSubscriptionChanges> {
  const changes: PartnerSubscriptionChanges = { put: [], removed: [] };
  for (const id of await partnerSubscriptionOwners(db)) {
    const done = await store.transaction(async (tx) => {
      await tx.lock(`Organization/${id}`);
      const found = await tx.read('Organization', id);
      const organization = found.kind === 'found' ? (found.resource as Organization) : undefined;
      return keepPartnerSubscriptions(tx, id, organization, hostingOrganization, false);
    });
    changes.put.push(...done.put);
    changes.removed.push(...done.removed);
  }
  return changes;
}
