import type { AuditEvent, AuditEventAgent, AuditEventEntity, Reference } from 'fhir/r4';
import { isValidId } from '../fhir/resource-types.js';
import { serverBuilt } from '../search/index/audit-event.js';
import {
  AGENT_APPLICATION,
  AGENT_ORGANIZATION,
  AGENT_USER_READING,
  CLIENT_ID_SYSTEM,
  ENTITY_SYSTEM_OBJECT,
  OBSERVER,
  ROLE_DOMAIN_RESOURCE,
  SOURCE_APPLICATION_SERVER,
  USER_ID_SYSTEM,
} from './vocabulary.js';

/** DICOM Export: information leaves the system, here in a notification to a subscriber (a disclosure). */
const EXPORT = { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110106', display: 'Export' };
/** The Backport IG's notification types, as the subtype. */
const NOTIFICATION_TYPE_SYSTEM = 'http://hl7.org/fhir/uv/subscriptions-backport/CodeSystem/backport-notification-type';
/** object-role 9: the Subscription the notification went out for. */
const ROLE_SUBSCRIBER = { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '9', display: 'Subscriber' };
/** The identifier system of the server's own subscriptions, which are no Subscription resources. */
const SYSTEM_SUBSCRIPTION_ID = 'http://ccp-exchange.org/fhir/sid/system-subscription';
const DESTINATION = { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110152', display: 'Destination Role ID' };

/** One attempt to notify a subscriber, as the delivery engine reports it (server/delivery/attempt.ts): ids only. */
export interface NotificationDisclosure {
  subscriptionId: string;
  channel: string;
  type: string;
  eventNumbers: number[];
  focus: Array<{ type: string; id: string }>;
  outcome: 'delivered' | 'failed' | 'dropped';
  reason?: string;
  gaveUp?: boolean;
  /** Who the subscription acts for: its client and user, or the organization of a system-managed one. */
  recipient: { clientId?: string; userId?: string; organization?: string };
}

/**
 * Every notification sent, every failed attempt and every one withheld (the subscriber's access had ended) is an
 * AuditEvent (issue 20: "a disclosure"): type DICOM Export, subtype the notification type, this server as the
 * source and the subscriber as the destination, the Subscription and each focus as entities with their event
 * numbers. What the notification carried is never in it: ids and numbers only, as in the notification itself.
 */
export function notificationEvent(disclosure: NotificationDisclosure, recorded = new Date()): AuditEvent {
  const { recipient } = disclosure;
  const agent: AuditEventAgent[] = [{ type: { coding: [AGENT_APPLICATION] }, who: { display: OBSERVER.display }, requestor: true }];
  if (recipient.clientId) agent.push({ type: { coding: [DESTINATION] }, who: { identifier: { system: CLIENT_ID_SYSTEM, value: recipient.clientId } }, requestor: false });
  if (recipient.userId) agent.push({ type: { coding: [AGENT_USER_READING] }, who: { identifier: { system: USER_ID_SYSTEM, value: recipient.userId } }, altId: recipient.userId, requestor: false });
  if (recipient.organization) agent.push({ type: { coding: [AGENT_ORGANIZATION] }, who: { reference: `Organization/${recipient.organization}` }, requestor: false });
  const entity: AuditEventEntity[] = [
    { what: subscriptionNamed(disclosure.subscriptionId), type: ENTITY_SYSTEM_OBJECT, role: ROLE_SUBSCRIBER, detail: [{ type: 'channel', valueString: disclosure.channel }] },
    ...disclosure.focus.map((focus, i): AuditEventEntity => ({
      what: { reference: `${focus.type}/${focus.id}` },
      type: ENTITY_SYSTEM_OBJECT,
      role: ROLE_DOMAIN_RESOURCE,
      ...(disclosure.eventNumbers[i] !== undefined ? { detail: [{ type: 'event-number', valueString: String(disclosure.eventNumbers[i]) }] } : {}),
    })),
  ];
  const outcome = disclosure.outcome === 'delivered' ? '0' : disclosure.gaveUp ? '8' : '4';
  return serverBuilt({
    resourceType: 'AuditEvent',
    type: EXPORT,
    subtype: [{ system: NOTIFICATION_TYPE_SYSTEM, code: disclosure.type }],
    action: 'R',
    recorded: recorded.toISOString(),
    outcome,
    ...(disclosure.outcome === 'delivered' ? {} : { outcomeDesc: `${disclosure.outcome}${disclosure.gaveUp ? ' (retries over: the subscription is in error)' : ''}: ${disclosure.reason ?? 'no reason given'}` }),
    agent,
    source: { observer: OBSERVER, type: [SOURCE_APPLICATION_SERVER] },
    entity,
  });
}

/**
 * A Subscription resource by reference; a partner's system-managed one (server/subscriptions/partner-subscriptions.ts),
 * which is no resource and whose id no FHIR id can be, by identifier.
 */
function subscriptionNamed(id: string): Reference {
  return isValidId(id) ? { reference: `Subscription/${id}` } : { identifier: { system: SYSTEM_SUBSCRIPTION_ID, value: id } };
}
