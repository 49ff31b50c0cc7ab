import type { Subscription } from 'fhir/r4';
import { BACKENDS, reportBackends } from '../../support/backends.js';
import { TestReceiver, waitFor } from '../../support/notification-receiver.js';
import { openNotifyingServer, type NotifyingServer } from '../../support/notifying-server.js';
import { ascending, created, distinctSorted, eventNumbers, fhirCall, joining, oneTo, subscription } from './e2e-support.js';

reportBackends();

/**
 * Issue 20, "Never lost": a receiver that is away gets everything, in order, when it comes back, while the others are
 * told meanwhile; one that never comes back ends in `error` (its Subscription resource says so) and holds up no one.
 * The application listens on a real port with its engine running (test/support/notifying-server.ts); receivers are
 * real HTTP servers on loopback; events are Organizations joining, created over HTTP.
 */

const EVENTS = 5;

async function activeSubscription(server: NotifyingServer, endpoint: string): Promise<string> {
  const { id } = await created(server.fhir, subscription({ endpoint }));
  await waitFor(`Subscription/${id} active`, async () => (await fhirCall<Subscription>('GET', `${server.fhir}/Subscription/${id}`)).body.status === 'active');
  return id;
}

describe.each(BACKENDS)('a receiver that is away, on $name', (backend) => {
  describe('and comes back', () => {
    let server: NotifyingServer;
    let away: TestReceiver;
    let healthy: TestReceiver;

    beforeAll(async () => {
      // A long window (the default 24 h) with short waits between attempts: the receiver is retried often and never given up on.
      server = await openNotifyingServer(backend, { engine: { retry: { baseMs: 100, maxDelayMs: 300 } } });
      away = await TestReceiver.start();
      healthy = await TestReceiver.start();
    });
    afterAll(async () => {
      await server?.close();
      await away?.down();
      await healthy?.down();
    });

    it('gets every event, in order, once it is back, and the healthy receiver is told meanwhile', async () => {
      const awayId = await activeSubscription(server, away.url('away'));
      const healthyId = await activeSubscription(server, healthy.url('healthy'));
      await away.down();

      for (let i = 0; i < EVENTS; i++) await created(server.fhir, joining(`Joiner ${i}`));
      // The healthy receiver has all of them while the other is still down (it is down until this test says so).
      await waitFor('the healthy receiver told of every event', () => distinctSorted(eventNumbers(healthy.received, healthyId)).length === EVENTS);
      expect(eventNumbers(healthy.received, healthyId)).toEqual(oneTo(EVENTS));
      expect(eventNumbers(away.received, awayId)).toEqual([]);
      // Attempts were made and failed meanwhile (the endpoint refused connections), and the subscription is still live.
      await waitFor('a failed attempt at the away receiver', async () => (await failedAttempts(server, awayId)) > 0);
      expect((await fhirCall<Subscription>('GET', `${server.fhir}/Subscription/${awayId}`)).body.status).toBe('active');

      await away.up();
      await waitFor('the returning receiver told of every event', () => distinctSorted(eventNumbers(away.received, awayId)).length === EVENTS);
      const got = eventNumbers(away.received, awayId);
      expect(ascending(got)).toBe(true);
      expect(distinctSorted(got)).toEqual(oneTo(EVENTS));
    });
  });

  describe('and never comes back', () => {
    let server: NotifyingServer;
    let gone: TestReceiver;
    let healthy: TestReceiver;

    beforeAll(async () => {
      // A retry window of two seconds: what SUBSCRIPTION_RETRY_HOURS says in hours, shortened for the test.
      server = await openNotifyingServer(backend, { engine: { retry: { windowMs: 2000, baseMs: 100, maxDelayMs: 300 } } });
      gone = await TestReceiver.start();
      healthy = await TestReceiver.start();
    });
    afterAll(async () => {
      await server?.close();
      await gone?.down();
      await healthy?.down();
    });

    it('ends in error, its Subscription reads error with a reason, and the other subscriber is told of everything', async () => {
      const goneId = await activeSubscription(server, gone.url('gone'));
      const healthyId = await activeSubscription(server, healthy.url('healthy'));
      await gone.down();

      for (let i = 0; i < EVENTS; i++) await created(server.fhir, joining(`Joiner ${i}`));
      await waitFor('the healthy receiver told of every event', () => distinctSorted(eventNumbers(healthy.received, healthyId)).length === EVENTS);
      expect(eventNumbers(healthy.received, healthyId)).toEqual(oneTo(EVENTS));

      await waitFor('the gone receiver\'s Subscription in error', async () => (await fhirCall<Subscription>('GET', `${server.fhir}/Subscription/${goneId}`)).body.status === 'error', 15_000);
      const resource = (await fhirCall<Subscription>('GET', `${server.fhir}/Subscription/${goneId}`)).body;
      expect(resource.error).toMatch(/connection failed \(ECONNREFUSED\)/);
      expect(gone.received).toHaveLength(1); // the handshake, before it went away
      // Later events are not numbered for a subscription in error; the healthy one goes on.
      await created(server.fhir, joining('After the error'));
      await waitFor('the healthy receiver told of the next event', () => eventNumbers(healthy.received, healthyId).includes(EVENTS + 1));
      expect((await fhirCall<Subscription>('GET', `${server.fhir}/Subscription/${healthyId}`)).body.status).toBe('active');
    });
  });
});

/** Failed attempts the audit trail recorded for a subscription (each attempt is an AuditEvent: server/audit/notification-events.ts). */
async function failedAttempts(server: NotifyingServer, subscriptionId: string): Promise<number> {
  const rows = await server.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM subscription_notification WHERE subscription_id = $1 AND failing_since IS NOT NULL`,
    [subscriptionId],
  );
  return rows[0].n;
}
