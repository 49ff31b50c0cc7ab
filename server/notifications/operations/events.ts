import { badRequest, FhirError } from '../../fhir/outcome.js';
import type { FhirContext, Interaction } from '../../rest/types.js';
import type { AccessCheck, NumberedEvent, PayloadContent, SubscriptionOwner } from '../../subscriptions/model.js';
import { eventsBundle } from '../../subscriptions/notification-bundle.js';
import type { OperationInput } from '../../rest/interactions/terminology/input.js';
import { operationInput } from './input.js';
import { reportOf, subscriptionStateOf } from './subscription-state.js';

/** The most event numbers one answer spans: a client catching up asks again from the number after the last. */
export const MAX_EVENTS_PER_ANSWER = 1000;

const CONTENTS: readonly PayloadContent[] = ['empty', 'id-only'];

/**
 * `GET|POST [base]/Subscription/[id]/$events` (the Backport IG's backport-subscription-events): the events numbered
 * for the Subscription from `eventsSinceNumber` to `eventsUntilNumber` (both included), as a notification Bundle
 * (`history`, the status Parameters first, notification type `query-event`), for as long as the engine keeps them.
 *
 * - Only events whose focus the Subscription's owner may read now are in the answer (the same decision as a read,
 *   `FhirContext.subscriptionAccess`): access that ended since an event was numbered takes it out of `$events` as it
 *   takes it out of deliveries. Without that decision the operation is refused, never answered unfiltered.
 * - `content` is `empty` or `id-only` (the Subscription's own level when absent); `full-resource` is refused, as it
 *   is for Subscriptions: a subscriber reads each focus with its own token, so consent is decided at read time.
 * - One answer spans at most MAX_EVENTS_PER_ANSWER numbers: from `eventsSinceNumber` on when it is given, else the
 *   latest ones up to `eventsUntilNumber` (or the last); `events-since-subscription-start` says how far they go.
 */
export const subscriptionEvents: Interaction = async (request, params, context) => {
  const input = operationInput(request, context, '$events', ['eventsSinceNumber', 'eventsUntilNumber', 'content']);
  const since = eventNumber(input, 'eventsSinceNumber');
  const until = eventNumber(input, 'eventsUntilNumber');
  if (since !== undefined && until !== undefined && since > until) {
    throw badRequest(`$events: eventsSinceNumber (${since}) is after eventsUntilNumber (${until})`, ['eventsSinceNumber', 'eventsUntilNumber']);
  }
  const content = contentParameter(input);
  const access = accessOf(context);
  const state = await subscriptionStateOf(params, context);

  const window = eventWindow(since, until, state.eventsSinceSubscriptionStart);
  const numbered = window ? await context.store.subscriptionEvents(state.subscription.id, window.from, window.to) : [];
  const events = await readable(numbered, state.subscription.owner, access);

  const subscription = { ...state.subscription, payload: content ?? state.subscription.payload };
  if (subscription.payload === 'id-only') await recordDisclosed(events, context);
  return { status: 200, body: eventsBundle({ ...reportOf(state), subscription, type: 'query-event', events }, request.baseUrl) };
};

/**
 * The event numbers one answer spans, both included: from `since` (else the latest ones) to `until` (else the last
 * numbered, `highest`), at most `max` of them; undefined when there are none to read.
 */
export function eventWindow(since: number | undefined, until: number | undefined, highest: number, max = MAX_EVENTS_PER_ANSWER): { from: number; to: number } | undefined {
  const last = Math.min(until ?? highest, highest);
  const from = since ?? Math.max(1, last - max + 1);
  const to = Math.min(last, from + max - 1);
  return from <= to ? { from, to } : undefined;
}

/** The events whose focus `owner` may read now, each focus asked once however many events are about it. */
async function readable(events: readonly NumberedEvent[], owner: SubscriptionOwner, access: AccessCheck): Promise<NumberedEvent[]> {
  const decided = new Map<string, boolean>();
  const kept: NumberedEvent[] = [];
  for (const event of events) {
    const key = `${event.focus.type}/${event.focus.id}`;
    if (!decided.has(key)) decided.set(key, await access(owner, event.focus));
    if (decided.get(key)) kept.push(event);
  }
  return kept;
}

/**
 * An `id-only` answer names each focus: the request's AuditEvent records them, and so the patients they are about
 * (server/audit/touched.ts), as a read of each would. An `empty` answer names none.
 */
async function recordDisclosed(events: readonly NumberedEvent[], context: FhirContext): Promise<void> {
  const auditing = context.auditing;
  if (!auditing) return;
  const foci = new Map(events.map(({ focus }) => [`${focus.type}/${focus.id}`, focus]));
  for (const [path, focus] of foci) {
    const found = await context.store.read(focus.type, focus.id);
    if (found.kind === 'found') auditing.add({ status: 200, body: found.resource }, 'read', path);
  }
}

/** The IG types event numbers `string`; a number given as an integer in a Parameters body is taken too. */
function eventNumber(input: OperationInput, name: string): number | undefined {
  const value = input.string(name);
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,15}$/.test(value)) throw badRequest(`$events: ${name} is an event number, a whole number of 0 or more (got ${value})`, [name]);
  return Number(value);
}

function contentParameter(input: OperationInput): PayloadContent | undefined {
  const value = input.string('content');
  if (value === undefined || (CONTENTS as readonly string[]).includes(value)) return value as PayloadContent | undefined;
  if (value === 'full-resource') {
    throw new FhirError(422, {
      code: 'not-supported',
      diagnostics:
        '$events: content full-resource is not offered: notifications never carry resources. Ask for id-only and read each focus with your own token.',
      expression: ['content'],
    });
  }
  throw badRequest(`$events: content "${value}" is not a payload content code (empty | id-only | full-resource)`, ['content']);
}

function accessOf(context: FhirContext): AccessCheck {
  if (!context.subscriptionAccess) {
    throw new FhirError(501, { code: 'not-supported', diagnostics: '$events: this server is not set up to decide which events a subscriber may still see' });
  }
  return context.subscriptionAccess;
}
