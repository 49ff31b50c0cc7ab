import type { Organization } from 'fhir/r4';
import type { WriteRule } from '../rest/write-rules.js';
import { notificationAddress } from '../subscriptions/partner-address.js';
import { refusal } from '../subscriptions/problems.js';
import { keepPartnerSubscriptions } from './partner-subscriptions.js';

/**
 * A partner's notification address (server/subscriptions/partner-address.ts) and the emails it gets: before an
 * Organization is written, an address that cannot be mailed to is refused (422, at its element); after, in the same
 * transaction, the engine's records of its emails follow the version written (./partner-subscriptions.ts): made
 * when an address is given, changed with it, removed with it, when the organization is made inactive or deleted.
 * Committed together, so no event can find an organization with an address and no records, or the reverse.
 *
 * Registered before the topic-event rule (server/pipeline/context.ts): a new partner's records thus predate its own
 * organization-joined event, and its first email says it has joined (its address works).
 */
export const partnerEmailRule: WriteRule = {
  name: 'partner-emails',
  resourceTypes: ['Organization'],
  async check(change) {
    if (!change.resource) return;
    const { problems } = notificationAddress(change.resource as Organization);
    if (problems.length) throw refusal(problems);
  },
  async written(change, written, context) {
    const id = written?.id ?? change.id;
    if (id === undefined) return;
    await keepPartnerSubscriptions(context.store, id, written as Organization | undefined, context.hostingOrganization, true);
  },
};
