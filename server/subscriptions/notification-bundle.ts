import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Parameters, ParametersParameter } from 'fhir/r4';
import { isInstant } from '../fhir/date-range.js';
import { NOTIFICATION_PROFILE, STATUS_PROFILE } from './backport.js';
import type { FocusRef, NotificationType, NumberedEvent, SubscriptionStatusReport } from './model.js';

/**
 * The Backport IG's R4 notification Bundle (backport-subscription-notification-r4): a `history` Bundle whose first
 * entry is the SubscriptionStatus, a Parameters resource (backport-subscription-status-r4), followed for `id-only`
 * by one entry per focus, naming it without its content. Also the answers of `$status` (a `searchset` of status
 * Parameters) and `$events` (a notification Bundle of type `query-event`).
 *
 * What each content level carries, after the IG's payload rules:
 * - `empty`: no entry besides the status, no `focus` (the IG: SHALL NOT reference resources), and no `topic` (SHOULD
 *   NOT be present): the subscriber learns that something happened, and asks.
 * - `id-only`: each event's `focus` (the IG: SHALL), as an absolute URL, the `topic` (MAY), and an entry per focus
 *   with its URL in `fullUrl` and `request` (the IG: SHALL, as a history Bundle requires) and no resource.
 * Event numbers and `events-since-subscription-start` are strings: the R4 profile types them `string` (the R4B and
 * R5 types are 64-bit integers), in 1.1.0 as in 1.2.
 */

export interface BundleOptions {
  /** When the Bundle is built (`Bundle.timestamp`); the clock when absent. */
  now?: Date;
  /** Makes the ids of the Bundle and the status Parameters (UUIDs when absent). */
  newId?: () => string;
}

/** The notification for a handshake, a heartbeat or events, as sent on a channel. */
export function notificationBundle(report: SubscriptionStatusReport, baseUrl: string, options: BundleOptions = {}): Bundle {
  const base = trimBase(baseUrl);
  const newId = options.newId ?? randomUUID;
  const events = carriesEvents(report.type) ? inOrder(report.events) : [];
  const focusEntries = report.subscription.payload === 'id-only' ? distinctFoci(events).map((focus) => focusEntry(focus, base)) : [];
  return {
    resourceType: 'Bundle',
    id: newId(),
    meta: { profile: [NOTIFICATION_PROFILE] },
    type: 'history',
    timestamp: (options.now ?? new Date()).toISOString(),
    entry: [statusEntry(report, base, newId()), ...focusEntries],
  };
}

/** `$events`: the events asked for, as a notification Bundle of type `query-event`. */
export function eventsBundle(report: SubscriptionStatusReport, baseUrl: string, options: BundleOptions = {}): Bundle {
  return notificationBundle({ ...report, type: 'query-event' }, baseUrl, options);
}

/** `$status`: a `searchset` Bundle of one status Parameters (type `query-status`, no events) per Subscription. */
export function statusBundle(reports: readonly SubscriptionStatusReport[], baseUrl: string, options: BundleOptions = {}): Bundle {
  const base = trimBase(baseUrl);
  const newId = options.newId ?? randomUUID;
  const bundle: Bundle = { resourceType: 'Bundle', id: newId(), type: 'searchset', timestamp: (options.now ?? new Date()).toISOString(), total: reports.length };
  const entry = reports.map((report): BundleEntry => {
    const id = newId();
    return { fullUrl: `urn:uuid:${id}`, resource: statusParameters({ ...report, type: 'query-status', events: [] }, base, id), search: { mode: 'match' } };
  });
  // FHIR JSON has no empty arrays: no Subscription, no entry.
  return entry.length ? { ...bundle, entry } : bundle;
}

/** The SubscriptionStatus of one report, as the R4 profile's Parameters. */
export function statusParameters(report: SubscriptionStatusReport, baseUrl: string, id: string): Parameters {
  const base = trimBase(baseUrl);
  const { subscription } = report;
  const parameter: ParametersParameter[] = [{ name: 'subscription', valueReference: { reference: subscriptionUrl(base, subscription.id) } }];
  if (subscription.payload !== 'empty') parameter.push({ name: 'topic', valueCanonical: subscription.topic });
  parameter.push(
    { name: 'status', valueCode: report.status },
    { name: 'type', valueCode: report.type },
    { name: 'events-since-subscription-start', valueString: String(report.eventsSinceSubscriptionStart) },
  );
  if (carriesEvents(report.type)) {
    for (const event of inOrder(report.events)) parameter.push(notificationEvent(event, subscription.payload === 'id-only', base));
  }
  if (report.error) parameter.push({ name: 'error', valueCodeableConcept: { text: report.error } });
  return { resourceType: 'Parameters', id, meta: { profile: [STATUS_PROFILE] }, parameter };
}

function statusEntry(report: SubscriptionStatusReport, base: string, id: string): BundleEntry {
  return {
    fullUrl: `urn:uuid:${id}`,
    resource: statusParameters(report, base, id),
    // As the IG's examples: the status is what a GET of the Subscription's $status would have answered.
    request: { method: 'GET', url: `${subscriptionUrl(base, report.subscription.id)}/$status` },
    response: { status: '200' },
  };
}

function notificationEvent(event: NumberedEvent, withFocus: boolean, base: string): ParametersParameter {
  const part: ParametersParameter[] = [
    { name: 'event-number', valueString: String(event.eventNumber) },
    { name: 'timestamp', valueInstant: isInstant(event.timestamp) ? event.timestamp : new Date(event.timestamp).toISOString() },
  ];
  if (withFocus) part.push({ name: 'focus', valueReference: { reference: `${base}/${event.focus.type}/${event.focus.id}` } });
  return { name: 'notification-event', part };
}

/**
 * An `id-only` entry: where the focus is, without its content. The request is a read of it, as the IG's examples
 * show a resource that is in a notification for context: the subscriber reads it with its own token.
 */
function focusEntry(focus: FocusRef, base: string): BundleEntry {
  const path = `${focus.type}/${focus.id}`;
  return { fullUrl: `${base}/${path}`, request: { method: 'GET', url: path }, response: { status: '200' } };
}

/** Handshakes, heartbeats and `$status` answers report no events (the counter still says how many there were). */
function carriesEvents(type: NotificationType): boolean {
  return type === 'event-notification' || type === 'query-event';
}

function inOrder(events: readonly NumberedEvent[]): NumberedEvent[] {
  return [...events].sort((a, b) => a.eventNumber - b.eventNumber);
}

/** One entry per resource, however many of the events are about it. */
function distinctFoci(events: readonly NumberedEvent[]): FocusRef[] {
  const seen = new Map<string, FocusRef>();
  for (const { focus } of events) seen.set(`${focus.type}/${focus.id}`, seen.get(`${focus.type}/${focus.id}`) ?? focus);
  return [...seen.values()];
}

function subscriptionUrl(base: string, id: string): string {
  return `${base}/Subscription/${id}`;
}

function trimBase(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}
