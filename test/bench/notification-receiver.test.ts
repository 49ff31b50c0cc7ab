import { notificationBundle } from '../../server/subscriptions/notification-bundle.js';
import type { SubscriptionSpec } from '../../server/subscriptions/model.js';
import { percentile, readNotification, summary } from '../../bench/notification-receiver.mjs';

/**
 * The notifications bench's own helpers: it must read the server's notification Bundles as they are built (a change
 * of the wire format would otherwise make the bench count nothing, or the wrong thing), and its percentiles must be
 * samples, never between two.
 */

const spec: SubscriptionSpec = {
  id: 'sub-1',
  topic: 'http://ccp-exchange.org/fhir/SubscriptionTopic/organization-joined',
  filters: [],
  channel: 'rest-hook',
  endpoint: 'http://127.0.0.1:9/hook/7',
  headers: [],
  payload: 'id-only',
  timeoutSeconds: 10,
  maxCount: 20,
  owner: { clientId: 'bench-subscriber-7', scopes: ['system/Organization.rs'] },
};

describe('the notifications bench receiver', () => {
  it('reads the type and each event of a server-built notification: number, timestamp, focus as Type/id', () => {
    const bundle = notificationBundle(
      {
        subscription: spec,
        status: 'active',
        type: 'event-notification',
        eventsSinceSubscriptionStart: 12,
        events: [
          { eventNumber: 11, timestamp: '2026-12-07T10:00:00.125Z', focus: { type: 'Organization', id: 'org-a' } },
          { eventNumber: 12, timestamp: '2026-12-07T10:00:01.250Z', focus: { type: 'Organization', id: 'org-b' } },
        ],
      },
      'https://ccp.example.org/fhir',
    );
    expect(readNotification(JSON.parse(JSON.stringify(bundle)))).toEqual({
      type: 'event-notification',
      events: [
        { number: 11, timestamp: Date.parse('2026-12-07T10:00:00.125Z'), focus: 'Organization/org-a' },
        { number: 12, timestamp: Date.parse('2026-12-07T10:00:01.250Z'), focus: 'Organization/org-b' },
      ],
    });
  });

  it('reads a handshake as a notification without events, and refuses what is not a notification', () => {
    const handshake = notificationBundle({ subscription: spec, status: 'requested', type: 'handshake', eventsSinceSubscriptionStart: 0, events: [] }, 'https://ccp.example.org/fhir');
    expect(readNotification(handshake)).toEqual({ type: 'handshake', events: [] });
    expect(() => readNotification({ resourceType: 'Bundle', type: 'history', entry: [] })).toThrow('not a notification Bundle');
  });

  it('takes percentiles by nearest rank: always one of the samples, the upper one between two', () => {
    const values = [40, 10, 30, 20];
    expect(percentile(values, 50)).toBe(20);
    expect(percentile(values, 51)).toBe(30);
    expect(percentile(values, 95)).toBe(40);
    expect(percentile([], 50)).toBeUndefined();
    expect(summary(Array.from({ length: 100 }, (_, i) => i + 1))).toEqual({ count: 100, min: 1, p50: 50, p95: 95, p99: 99, max: 100 });
  });
});
