import type { Organization } from 'fhir/r4';
import { isEmailAddress } from './endpoint.js';
import { type Problem, refused } from './problems.js';

/**
 * A partner organization's notification address (issue 20, "The seeds' partner emails"): the `contact` whose
 * purpose is `contact-purpose#notifications`, with one email telecom, as the partner Organization profile slices
 * it (profiles/input/fsh/organization.fsh, docs/CONFORMANCE.md). Read on every Organization, whether it claims the
 * profile or not: the server mails to it, so what it cannot mail to is refused rather than kept and never used.
 */

/** The guide's code system of contact purposes (profiles/input/fsh/terminology.fsh, CCPContactPurpose). */
export const CONTACT_PURPOSE_SYSTEM = 'http://ccp-exchange.org/fhir/CodeSystem/contact-purpose';
export const NOTIFICATIONS_PURPOSE = 'notifications';

export interface NotificationAddress {
  /** The address, when the organization gives one that can be mailed to. */
  address?: string;
  /** What is wrong with the notification contact, each at its FHIRPath; none when there is no such contact. */
  problems: Problem[];
}

export function notificationAddress(organization: Organization): NotificationAddress {
  const contacts = (organization.contact ?? [])
    .map((contact, index) => ({ contact, index }))
    .filter(({ contact }) => contact.purpose?.coding?.some((coding) => coding.system === CONTACT_PURPOSE_SYSTEM && coding.code === NOTIFICATIONS_PURPOSE));
  if (!contacts.length) return { problems: [] };
  if (contacts.length > 1) {
    const where = `Organization.contact[${contacts[1].index}]`;
    return { problems: [refused(where, `An organization has one notification address: contact[${contacts[0].index}] already has the purpose ${NOTIFICATIONS_PURPOSE}`, 'invalid')] };
  }
  const [{ contact, index }] = contacts;
  const at = `Organization.contact[${index}]`;
  const telecom = contact.telecom ?? [];
  if (telecom.length !== 1 || telecom[0].system !== 'email') {
    return { problems: [refused(`${at}.telecom`, 'The notification contact has exactly one telecom, with system email: the address notifications are emailed to', 'required')] };
  }
  const { value } = telecom[0];
  if (!value || !isEmailAddress(value)) {
    return { problems: [refused(`${at}.telecom[0].value`, 'The notification address must be one email address (name@example.org)', 'value')] };
  }
  return { address: value, problems: [] };
}
