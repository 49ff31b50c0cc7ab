import type { Subscription } from 'fhir/r4';
import type { Caller } from '../../server/access/caller.js';
import { parseResourceScope } from '../../server/access/scopes.js';
import { ownerOfCaller } from '../../server/notifications/owner-of-caller.js';
import type { FhirContext } from '../../server/rest/types.js';
import type { Database } from '../../server/store/database.js';
import { fanOut, recordTopicEvent } from '../../server/store/subscription-outbox.js';
import type { ChannelType, FocusRef, PayloadContent, SubscriptionOwner, SubscriptionSpec, SubscriptionStatusCode } from '../../server/subscriptions/model.js';
import { OWNER_TAG_SYSTEM, ownerCode, ownerTag } from '../../server/subscriptions/owner.js';
import { checkSubscription } from '../../server/subscriptions/subscription-request.js';
import { matchesFilters } from '../../server/subscriptions/topics.js';

/** The Backport IG's URLs, written out as the IG publishes them (not taken from the code under test). */
export const IG = 'http://hl7.org/fhir/uv/subscriptions-backport';
export const CCP_CHANGED = 'http://ccp-exchange.org/fhir/SubscriptionTopic/ccp-changed';

export interface StoredSubscription {
  id: string;
  owner: SubscriptionOwner;
  channel?: ChannelType;
  payload?: PayloadContent;
  status?: SubscriptionStatusCode;
}

/** A topic-based Subscription as the IG's profile has it, on the ccp-changed topic. */
export function backportSubscription(channel: ChannelType, payload: PayloadContent): Subscription {
  const endpoint = channel === 'rest-hook' ? { endpoint: 'https://receiver.example.org/hook' } : channel === 'email' ? { endpoint: 'mailto:care-team@example.org' } : {};
  return {
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'Plans of the patients we care for',
    criteria: CCP_CHANGED,
    channel: {
      type: channel,
      ...endpoint,
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: `${IG}/StructureDefinition/backport-payload-content`, valueCode: payload }] },
    },
  } as Subscription;
}

/**
 * A Subscription put in place without the API: the resource written straight to the store, tagged with its owner as
 * the server tags those it stores, and the engine's record of it, so that the operations have something to report
 * whatever the Subscription write path does (it is built separately; these tests do not depend on it).
 */
export async function storeSubscription(context: FhirContext, { id, owner, channel = 'rest-hook', payload = 'id-only', status = 'active' }: StoredSubscription): Promise<SubscriptionSpec> {
  const resource = backportSubscription(channel, payload);
  const spec = checkSubscription(resource, { id, owner, interaction: 'create' });
  await context.store.create({ ...resource, status, meta: { tag: [ownerTag(owner)] } } as Subscription, id);
  await context.store.putSubscription(spec, status);
  return spec;
}

/**
 * Topic events of ccp-changed about `foci`, recorded in the outbox and numbered as the engine's fan-out numbers them:
 * for every active Subscription whose filters match and whose owner may read the focus then (the server's own
 * access check).
 */
export async function numberEvents(db: Database, context: FhirContext, foci: readonly FocusRef[]): Promise<void> {
  for (const focus of foci) {
    await recordTopicEvent(db, { topic: CCP_CHANGED, focus, trigger: 'update', occurredAt: new Date().toISOString() });
  }
  const access = context.subscriptionAccess!;
  while ((await fanOut(db, { match: (spec, event) => matchesFilters(spec.filters, event), access })).more);
}

/**
 * A backend client that subscribes, and the owner its Subscriptions record. Its Subscription scope is confined by a
 * query to the Subscriptions tagged as its own: the rule the server applies to every caller (a caller reaches only
 * the Subscriptions it owns), written here as a scope so that these tests hold with that rule and without it.
 */
export function subscriberClient(clientId: string, scopes: readonly string[] = ['system/CarePlan.rs']): { caller: Caller; owner: SubscriptionOwner } {
  const own = `system/Subscription.rs?_tag=${encodeURIComponent(`${OWNER_TAG_SYSTEM}|${ownerCode({ kind: 'client', clientId, scopes: [] })}`)}`;
  const caller: Caller = { kind: 'system', clientId, scopes: [...scopes, own].map((text) => parseResourceScope(text)!) };
  return { caller, owner: ownerOfCaller(caller) };
}
