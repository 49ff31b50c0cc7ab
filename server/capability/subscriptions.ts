import type { CapabilityStatementRestResource } from 'fhir/r4';
import type { Declared } from '../rest/route.js';
import { SERVER_CAPABILITY_R4, SUBSCRIPTION_PROFILE } from '../subscriptions/backport.js';
import { topicCanonicalExtensions } from '../subscriptions/topics.js';

/**
 * What the CapabilityStatement says of topic-based Subscriptions (the Backport IG's R4 server CapabilityStatement,
 * backport-subscription-server-r4), claimed only when the route table serves `$status` on Subscription, the one
 * operation the IG's server SHALL support: then the statement `instantiates` the IG's, the Subscription entry lists
 * the IG's Subscription profile in `supportedProfile`, and each of our topics by its canonical URL in the IG's
 * `capabilitystatement-subscriptiontopic-canonical` extension on that entry (its context: `CapabilityStatement.rest.resource`).
 */
export interface SubscriptionsCapability {
  instantiates: string[];
  onResource(resource: CapabilityStatementRestResource): CapabilityStatementRestResource;
}

export function subscriptionsBackport(declared: readonly Declared[]): SubscriptionsCapability {
  const served = declared.some((d) => d.level === 'operation' && d.type === 'Subscription' && d.name === 'status');
  if (!served) return { instantiates: [], onResource: (resource) => resource };
  return {
    instantiates: [SERVER_CAPABILITY_R4],
    onResource: (resource) =>
      resource.type !== 'Subscription'
        ? resource
        : {
            ...resource,
            extension: [...(resource.extension ?? []), ...topicCanonicalExtensions()],
            supportedProfile: [...(resource.supportedProfile ?? []), SUBSCRIPTION_PROFILE],
          },
  };
}
