import { BACKPORT } from './model.js';

/**
 * The canonical URLs of the Subscriptions R5 Backport IG (1.1.0, for R4) that our Subscriptions, notifications and
 * CapabilityStatement name. One place, so that a typo cannot make a profile or an extension silently unknown.
 */

const structure = (id: string): string => `${BACKPORT}/StructureDefinition/${id}`;

/** The profile a topic-based Subscription conforms to (CapabilityStatement `supportedProfile`). */
export const SUBSCRIPTION_PROFILE = structure('backport-subscription');
/** The R4 notification Bundle (type `history`, the status Parameters first). */
export const NOTIFICATION_PROFILE = structure('backport-subscription-notification-r4');
/** The R4 SubscriptionStatus: a Parameters resource. */
export const STATUS_PROFILE = structure('backport-subscription-status-r4');

/** On `Subscription.criteria`: one `filter-criteria` each (valueString). */
export const FILTER_CRITERIA_EXTENSION = structure('backport-filter-criteria');
/** On `Subscription.channel.type`: a channel type R4's code list lacks (valueCoding). */
export const CHANNEL_TYPE_EXTENSION = structure('backport-channel-type');
/** On `Subscription.channel.payload`: empty | id-only | full-resource (valueCode); required by the profile. */
export const PAYLOAD_CONTENT_EXTENSION = structure('backport-payload-content');
/** On `Subscription.channel`: seconds between heartbeats (valueUnsignedInt). */
export const HEARTBEAT_PERIOD_EXTENSION = structure('backport-heartbeat-period');
/** On `Subscription.channel`: seconds a delivery attempt may take (valueUnsignedInt). */
export const TIMEOUT_EXTENSION = structure('backport-timeout');
/** On `Subscription.channel`: the most triggering resources in one notification (valuePositiveInt). */
export const MAX_COUNT_EXTENSION = structure('backport-max-count');
/** On `CapabilityStatement.rest.resource` (the Subscription entry): one per supported topic (valueCanonical). */
export const TOPIC_CANONICAL_EXTENSION = structure('capabilitystatement-subscriptiontopic-canonical');

/** What an R4 server `instantiates` to claim the guide's server capabilities. */
export const SERVER_CAPABILITY_R4 = `${BACKPORT}/CapabilityStatement/backport-subscription-server-r4`;

/** The R5 channel-type code system, which a `backport-channel-type` coding may use to restate an R4 code. */
export const CHANNEL_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/subscription-channel-type';

/** The guide's operations on Subscription, as a CapabilityStatement lists them (`rest.resource.operation`). */
export const SUBSCRIPTION_OPERATIONS: ReadonlyArray<{ name: string; definition: string }> = [
  { name: 'status', definition: `${BACKPORT}/OperationDefinition/backport-subscription-status` },
  { name: 'events', definition: `${BACKPORT}/OperationDefinition/backport-subscription-events` },
  { name: 'get-ws-binding-token', definition: `${BACKPORT}/OperationDefinition/backport-subscription-get-ws-binding-token` },
];
