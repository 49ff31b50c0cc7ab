import type { Bundle, BundleEntry, Parameters, ParametersParameter } from 'fhir/r4';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import type { NumberedEvent, PayloadContent, SubscriptionSpec, SubscriptionStatusReport } from '../../server/subscriptions/model.js';
import { eventsBundle, notificationBundle, statusBundle } from '../../server/subscriptions/notification-bundle.js';
import { errorsAt, validate } from '../validation/validator.js';

/**
 * Expected values are the Backport IG's R4 examples (r4-notification-handshake, -heartbeat, -empty, -id-only,
 * -error) with our ids, worked out from its profiles and payload rules, not from the builder's output.
 */
const IG = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
const NOTIFICATION_PROFILE = `${IG}/backport-subscription-notification-r4`;
const STATUS_PROFILE = `${IG}/backport-subscription-status-r4`;
const TOPIC = 'http://ccp-exchange.org/fhir/SubscriptionTopic/ccp-changed';
const BASE = 'https://example.org/fhir';
const NOW = new Date('2020-05-29T16:44:13.188Z');

const spec = (payload: PayloadContent): SubscriptionSpec => ({
  id: 'admission',
  topic: TOPIC,
  filters: [{ name: 'patient', value: '123' }],
  channel: 'rest-hook',
  endpoint: 'https://receiver.example.org/hook',
  headers: [],
  payload,
  timeoutSeconds: 10,
  maxCount: 20,
  owner: { clientId: 'emr', scopes: ['system/CarePlan.rs'] },
});

const event = (eventNumber: number, id: string, timestamp = '2020-05-29T11:44:13.188-05:00'): NumberedEvent => ({
  eventNumber,
  timestamp,
  focus: { type: 'CarePlan', id },
});

const report = (fields: Partial<SubscriptionStatusReport> & { payload?: PayloadContent }): SubscriptionStatusReport => {
  const { payload = 'id-only', ...rest } = fields;
  return { subscription: spec(payload), status: 'active', type: 'event-notification', eventsSinceSubscriptionStart: 0, events: [], ...rest };
};

/** Ids handed out in order: the Bundle's, then each status Parameters'. */
const ids = (...list: string[]) => {
  const queue = [...list];
  return () => queue.shift() ?? 'unexpected-extra-id';
};

const options = (...list: string[]) => ({ now: NOW, newId: ids(...list) });

/** The status entry as the IG's `AddParameterStatus` rule set writes it. */
function statusEntry(id: string, parameter: ParametersParameter[]): BundleEntry {
  const resource: Parameters = { resourceType: 'Parameters', id, meta: { profile: [STATUS_PROFILE] }, parameter };
  return {
    fullUrl: `urn:uuid:${id}`,
    resource,
    request: { method: 'GET', url: `${BASE}/Subscription/admission/$status` },
    response: { status: '200' },
  };
}

const subscription = { name: 'subscription', valueReference: { reference: `${BASE}/Subscription/admission` } };
const topic = { name: 'topic', valueCanonical: TOPIC };
const status = (code: string) => ({ name: 'status', valueCode: code });
const type = (code: string) => ({ name: 'type', valueCode: code });
const since = (count: string) => ({ name: 'events-since-subscription-start', valueString: count });

const history = (entry: BundleEntry[]): Bundle => ({
  resourceType: 'Bundle',
  id: 'bundle-1',
  meta: { profile: [NOTIFICATION_PROFILE] },
  type: 'history',
  timestamp: '2020-05-29T16:44:13.188Z',
  entry,
});

/**
 * The slices of backport-subscription-status-r4 (1.1.0; the same in 1.2), transcribed from the IG: each
 * parameter's cardinality and value type, and those of a notification-event's parts.
 */
const SLICES: Record<string, { min: number; max: number; value?: string; codes?: string[] }> = {
  subscription: { min: 1, max: 1, value: 'valueReference' },
  topic: { min: 0, max: 1, value: 'valueCanonical' },
  status: { min: 1, max: 1, value: 'valueCode', codes: ['requested', 'active', 'error', 'off'] },
  type: { min: 1, max: 1, value: 'valueCode', codes: ['handshake', 'heartbeat', 'event-notification', 'query-status', 'query-event'] },
  'events-since-subscription-start': { min: 0, max: 1, value: 'valueString' },
  'notification-event': { min: 0, max: Infinity },
  error: { min: 0, max: Infinity, value: 'valueCodeableConcept' },
};
const EVENT_PARTS: Record<string, { min: number; max: number; value: string }> = {
  'event-number': { min: 1, max: 1, value: 'valueString' },
  timestamp: { min: 0, max: 1, value: 'valueInstant' },
  focus: { min: 0, max: 1, value: 'valueReference' },
  'additional-context': { min: 0, max: Infinity, value: 'valueReference' },
};

/** What in a status Parameters breaks the profile's slices (empty when it conforms). */
function statusProfileViolations(parameters: Parameters): string[] {
  const violations: string[] = [];
  const check = (list: ParametersParameter[], rules: Record<string, { min: number; max: number; value?: string; codes?: string[] }>, where: string) => {
    for (const [name, rule] of Object.entries(rules)) {
      const found = list.filter((p) => p.name === name);
      if (found.length < rule.min || found.length > rule.max) violations.push(`${where}${name}: ${found.length}`);
      for (const p of found) {
        const values = Object.keys(p).filter((key) => key.startsWith('value'));
        if (rule.value && (values.length !== 1 || values[0] !== rule.value)) violations.push(`${where}${name}: ${values.join()}`);
        const code = (p as unknown as Record<string, unknown>)[rule.value ?? ''];
        if (rule.codes && !rule.codes.includes(code as string)) violations.push(`${where}${name}: ${String(code)}`);
      }
    }
  };
  if (!parameters.meta?.profile?.includes(STATUS_PROFILE)) violations.push('meta.profile');
  check(parameters.parameter ?? [], SLICES, '');
  for (const p of (parameters.parameter ?? []).filter((p) => p.name === 'notification-event')) check(p.part ?? [], EVENT_PARTS, 'notification-event.');
  return violations;
}

/** The IG's bundle rules: history, the status Parameters first (backport-notification-bundle-r4-1, as FHIRPath). */
function notificationViolations(bundle: Bundle): string[] {
  const violations: string[] = [];
  if (bundle.type !== 'history') violations.push(`type ${bundle.type}`);
  if (!bundle.meta?.profile?.includes(NOTIFICATION_PROFILE)) violations.push('meta.profile');
  const invariant = fhirpath.evaluate(bundle, '(entry.first().resource.is(Parameters))', {}, r4);
  if (JSON.stringify(invariant) !== '[true]') violations.push(`backport-notification-bundle-r4-1: ${JSON.stringify(invariant)}`);
  violations.push(...statusProfileViolations(bundle.entry?.[0]?.resource as Parameters));
  return violations;
}

describe('notification Bundles', () => {
  it('a handshake: the status alone, no events (r4-notification-handshake)', () => {
    const bundle = notificationBundle(report({ status: 'requested', type: 'handshake', eventsSinceSubscriptionStart: 0 }), `${BASE}/`, options('bundle-1', '63c28e8a'));
    expect(bundle).toEqual(history([statusEntry('63c28e8a', [subscription, topic, status('requested'), type('handshake'), since('0')])]));
    expect(notificationViolations(bundle)).toEqual([]);
  });

  it('a heartbeat reports the count, never events, even when some are handed to it (r4-notification-heartbeat)', () => {
    const bundle = notificationBundle(
      report({ type: 'heartbeat', eventsSinceSubscriptionStart: 2, events: [event(2, 'p1')] }),
      BASE,
      options('bundle-1', '385b23bd'),
    );
    expect(bundle).toEqual(history([statusEntry('385b23bd', [subscription, topic, status('active'), type('heartbeat'), since('2')])]));
    expect(notificationViolations(bundle)).toEqual([]);
  });

  it('empty: numbers and times only; no topic, no focus, no entry but the status (r4-notification-empty, payloads)', () => {
    const bundle = notificationBundle(
      report({ payload: 'empty', eventsSinceSubscriptionStart: 2, events: [event(2, 'p1')] }),
      BASE,
      options('bundle-1', '9e41ff6d'),
    );
    expect(bundle).toEqual(
      history([
        statusEntry('9e41ff6d', [
          subscription,
          status('active'),
          type('event-notification'),
          since('2'),
          {
            name: 'notification-event',
            part: [
              { name: 'event-number', valueString: '2' },
              { name: 'timestamp', valueInstant: '2020-05-29T11:44:13.188-05:00' },
            ],
          },
        ]),
      ]),
    );
    expect(JSON.stringify(bundle)).not.toContain('CarePlan');
    expect(notificationViolations(bundle)).toEqual([]);
  });

  it('id-only: each focus by absolute URL, in event order, and one entry per resource without its content (r4-notification-id-only)', () => {
    const bundle = notificationBundle(
      report({ eventsSinceSubscriptionStart: 4, events: [event(3, 'p1'), event(2, 'p1'), event(4, 'p2')] }),
      BASE,
      options('bundle-1', '292d3c72'),
    );
    const notificationEvent = (eventNumber: string, id: string) => ({
      name: 'notification-event',
      part: [
        { name: 'event-number', valueString: eventNumber },
        { name: 'timestamp', valueInstant: '2020-05-29T11:44:13.188-05:00' },
        { name: 'focus', valueReference: { reference: `${BASE}/CarePlan/${id}` } },
      ],
    });
    expect(bundle).toEqual(
      history([
        statusEntry('292d3c72', [
          subscription,
          topic,
          status('active'),
          type('event-notification'),
          since('4'),
          notificationEvent('2', 'p1'),
          notificationEvent('3', 'p1'),
          notificationEvent('4', 'p2'),
        ]),
        { fullUrl: `${BASE}/CarePlan/p1`, request: { method: 'GET', url: 'CarePlan/p1' }, response: { status: '200' } },
        { fullUrl: `${BASE}/CarePlan/p2`, request: { method: 'GET', url: 'CarePlan/p2' }, response: { status: '200' } },
      ]),
    );
    expect(bundle.entry!.slice(1).every((entry) => entry.resource === undefined)).toBe(true);
    expect(notificationViolations(bundle)).toEqual([]);
  });

  it('writes a timestamp without seconds or zone as an instant, and keeps one that is already an instant', () => {
    const parts = (timestamp: string) => {
      const bundle = notificationBundle(report({ payload: 'empty', eventsSinceSubscriptionStart: 1, events: [event(1, 'p1', timestamp)] }), BASE, options('b', 'p'));
      const parameters = bundle.entry![0].resource as Parameters;
      return parameters.parameter!.find((p) => p.name === 'notification-event')!.part!.find((p) => p.name === 'timestamp')!.valueInstant;
    };
    expect(parts('2026-12-07T14:00Z')).toBe('2026-12-07T14:00:00.000Z');
    expect(parts('2026-12-07T14:00:00.123456+01:00')).toBe('2026-12-07T14:00:00.123456+01:00');
  });

  it('an error is reported as the IG has it: error, a CodeableConcept', () => {
    const bundle = notificationBundle(
      report({ status: 'error', type: 'heartbeat', eventsSinceSubscriptionStart: 3, error: 'The endpoint did not answer for 24 hours' }),
      BASE,
      options('bundle-1', '7bd91d26'),
    );
    const parameters = bundle.entry![0].resource as Parameters;
    expect(parameters.parameter!.slice(-1)).toEqual([{ name: 'error', valueCodeableConcept: { text: 'The endpoint did not answer for 24 hours' } }]);
    expect(notificationViolations(bundle)).toEqual([]);
  });

  it('conform to R4 itself: Bundle and Parameters, with their invariants (bdl-3, bdl-4 for history)', () => {
    for (const bundle of [
      notificationBundle(report({ type: 'handshake', status: 'requested' }), BASE),
      notificationBundle(report({ payload: 'empty', eventsSinceSubscriptionStart: 1, events: [event(1, 'p1')] }), BASE),
      notificationBundle(report({ eventsSinceSubscriptionStart: 2, events: [event(1, 'p1'), event(2, 'p2')] }), BASE),
    ]) {
      expect(errorsAt(validate(bundle as unknown as Record<string, unknown>))).toEqual([]);
    }
  });

  it('get fresh ids: the Bundle and the status Parameters each a UUID, the status entry at urn:uuid:', () => {
    const bundle = notificationBundle(report({ type: 'handshake' }), BASE);
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    expect(bundle.id).toMatch(uuid);
    expect(bundle.entry![0].fullUrl).toBe(`urn:uuid:${bundle.entry![0].resource!.id}`);
    expect(bundle.entry![0].resource!.id).toMatch(uuid);
    expect(bundle.entry![0].resource!.id).not.toBe(bundle.id);
  });
});

describe('$status', () => {
  it('a searchset of status Parameters of type query-status, one per Subscription, without events', () => {
    const other = report({ payload: 'empty', status: 'error', eventsSinceSubscriptionStart: 7, error: 'Endpoint refused the handshake' });
    other.subscription = { ...other.subscription, id: 'second' };
    const bundle = statusBundle([report({ eventsSinceSubscriptionStart: 2, events: [event(2, 'p1')] }), other], BASE, options('bundle-1', 'st-1', 'st-2'));
    expect(bundle).toEqual({
      resourceType: 'Bundle',
      id: 'bundle-1',
      type: 'searchset',
      timestamp: '2020-05-29T16:44:13.188Z',
      total: 2,
      entry: [
        {
          fullUrl: 'urn:uuid:st-1',
          resource: {
            resourceType: 'Parameters',
            id: 'st-1',
            meta: { profile: [STATUS_PROFILE] },
            parameter: [subscription, topic, status('active'), type('query-status'), since('2')],
          },
          search: { mode: 'match' },
        },
        {
          fullUrl: 'urn:uuid:st-2',
          resource: {
            resourceType: 'Parameters',
            id: 'st-2',
            meta: { profile: [STATUS_PROFILE] },
            parameter: [
              { name: 'subscription', valueReference: { reference: `${BASE}/Subscription/second` } },
              status('error'),
              type('query-status'),
              since('7'),
              { name: 'error', valueCodeableConcept: { text: 'Endpoint refused the handshake' } },
            ],
          },
          search: { mode: 'match' },
        },
      ],
    });
    for (const entry of bundle.entry!) expect(statusProfileViolations(entry.resource as Parameters)).toEqual([]);
    expect(errorsAt(validate(bundle as unknown as Record<string, unknown>))).toEqual([]);
  });

  it('of no Subscription is an empty searchset', () => {
    expect(statusBundle([], BASE, options('bundle-1'))).toEqual({ resourceType: 'Bundle', id: 'bundle-1', type: 'searchset', timestamp: '2020-05-29T16:44:13.188Z', total: 0 });
  });
});

describe('$events', () => {
  it('a notification Bundle of type query-event with the events asked for', () => {
    const bundle = eventsBundle(report({ eventsSinceSubscriptionStart: 9, events: [event(5, 'p1'), event(6, 'p2')] }), BASE, options('bundle-1', 'ev-1'));
    const parameters = bundle.entry![0].resource as Parameters;
    expect(bundle.type).toBe('history');
    expect(parameters.parameter!.find((p) => p.name === 'type')).toEqual(type('query-event'));
    expect(parameters.parameter!.filter((p) => p.name === 'notification-event').map((p) => p.part![0].valueString)).toEqual(['5', '6']);
    expect(bundle.entry!.map((entry) => entry.fullUrl)).toEqual(['urn:uuid:ev-1', `${BASE}/CarePlan/p1`, `${BASE}/CarePlan/p2`]);
    expect(notificationViolations(bundle)).toEqual([]);
  });
});
