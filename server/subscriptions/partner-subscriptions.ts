import type { Organization } from 'fhir/r4';
import { TOPIC_BASE, type SubscriptionOwner, type SubscriptionSpec, type TopicName } from './model.js';
import { notificationAddress } from './partner-address.js';
import { TOPICS } from './topics.js';

/**
 * The partners' emails (issue 20, "The seeds' partner emails"): every partner organization that gives a
 * notification address (./partner-address.ts) is emailed, through the same engine as any subscriber, of the plans
 * it has access to changing, of service notices, and of organizations joining. The server keeps one engine record
 * per topic for it (system-managed: there is no Subscription resource), owned by the organization itself, so each
 * event is decided as that organization's access (server/notifications/access-check.ts): its registrations,
 * directives and overrides, exactly as for its own clients.
 */

/** The topics a partner's notification address is told of. */
export const PARTNER_TOPICS: readonly TopicName[] = ['ccp-changed', 'service-notice', 'organization-joined'];

/**
 * The engine id of a partner's subscription to `topic`. The colons keep it apart from every Subscription resource's
 * id (FHIR ids are letters, digits, `-` and `.`): no client's Subscription can replace or delete it.
 */
export function partnerSubscriptionId(organizationId: string, topic: TopicName): string {
  return `partner:${organizationId}:${topic}`;
}

/** Read access to the focus types of the partner topics, for the system-managed subscriptions' owner. */
const PARTNER_SCOPES: readonly string[] = [
  ...new Set(TOPICS.filter((topic) => PARTNER_TOPICS.includes(topic.name)).flatMap((topic) => topic.focus)),
].map((type) => `system/${type}.r`);

/** One event, one email: its words (server/delivery/channels/email-message.ts) speak of one change. */
const MAX_COUNT = 1;

/**
 * The subscriptions the server keeps for `organization` (its current version; undefined when it was deleted): one
 * per partner topic when it is active, is not the hosting organization, and gives a notification address; else
 * none. An address that cannot be mailed to counts as none (the write rule refuses it before it is stored).
 */
export function partnerSubscriptionSpecs(organization: Organization | undefined, hostingOrganization: string | undefined): SubscriptionSpec[] {
  const id = organization?.id;
  if (!organization || id === undefined || id === hostingOrganization || organization.active === false) return [];
  const { address } = notificationAddress(organization);
  if (address === undefined) return [];
  const owner: SubscriptionOwner = { kind: 'organization', organization: id, scopes: [...PARTNER_SCOPES] };
  return PARTNER_TOPICS.map((topic) => ({
    id: partnerSubscriptionId(id, topic),
    topic: `${TOPIC_BASE}/${topic}`,
    filters: [],
    channel: 'email',
    endpoint: mailtoOf(address),
    headers: [],
    // The email says that something happened and links to the app: nothing of the plan is attached.
    payload: 'empty',
    timeoutSeconds: 60,
    maxCount: MAX_COUNT,
    owner,
  }));
}

/** A `mailto:` URI of one address: `%` and `?`, which an address's local part may hold, percent-encoded. */
function mailtoOf(address: string): string {
  return `mailto:${address.replace(/[%?]/g, (c) => encodeURIComponent(c))}`;
}
