import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bundle, Subscription } from 'fhir/r4';
import { LOCK_FILE, readHolder } from '../../../server/store/data-dir-lock.js';
import { createEmptySchema, reportBackends, TEST_DATABASE_URL } from '../../support/backends.js';
import { migratedDataDir } from '../../support/data-dir.js';
import { TestReceiver, waitFor } from '../../support/notification-receiver.js';
import { freePort, type ServerProcess, startServerProcess } from '../../support/server-process.js';
import { created, distinctSorted, eventNumbers, fhirCall, joining, oneTo, subscription } from './e2e-support.js';

reportBackends();

/**
 * Issue 20, "Never lost": the real server (`node dist/server/main.js`, built by jest's global setup) is killed with
 * SIGKILL between the commit of changes and the delivery of their notifications, and started again on the same
 * database: every notification arrives, each event number at least once, none missing. The receiver is down while
 * the first process runs, so nothing can have been delivered before the kill; the last change is written just
 * before the kill, so its event may still be waiting in the outbox, not yet numbered.
 *
 * Duplicates: delivery is at least once. One is possible when a process dies after the receiver took a POST and
 * before the delivery was recorded; the next process sends it again once its lease has run out. In this
 * test the receiver is down until the restart, so no POST can be taken before the kill: a number seen twice here
 * would be a fault, but the test only requires every number, as the IG's receivers de-duplicate by number.
 * A send in flight at the moment of the kill is leased (SUBSCRIPTION_DELIVERY_LEASE_SECONDS, 120 s by default), and
 * no process sends it before that lease has run out: so the last writes are made while the first event waits for
 * its retry, and the wait for arrival allows for a lease all the same (a retry may happen to run at the moment of
 * the kill). The processes here lease for LEASE_SECONDS: longer than a send to the receiver may take (its refusal
 * while down is at once; the subscription's timeout, 10 s, bounds the rest), so what a lease proves is the same.
 */

const EVENTS = 3;
const LEASE_SECONDS = 12;
/** A lease of a send the kill cut short must run out before another process may send it; then the retry's wait. */
const ARRIVAL_MS = LEASE_SECONDS * 1000 + 30_000;

interface Storage {
  name: string;
  env: Record<string, string>;
  /** For PGlite: the process the DATA_DIR's lock file names (the killed one leaves it behind). */
  lockHolder?(): number | undefined;
  close(): Promise<void>;
}

const storages: Array<() => Promise<Storage>> = [
  async () => {
    const dir = migratedDataDir(mkdtempSync(path.join(os.tmpdir(), 'ccp-never-lost-')));
    return {
      name: 'PGlite DATA_DIR',
      env: { DATA_DIR: dir },
      lockHolder: () => readHolder(path.join(dir, LOCK_FILE))?.pid,
      close: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  ...(TEST_DATABASE_URL
    ? [
        async () => {
          const schema = await createEmptySchema(TEST_DATABASE_URL!);
          return { name: 'PostgreSQL schema', env: { DATABASE_URL: schema.url }, close: () => schema.close() };
        },
      ]
    : []),
];

async function killed(server: ServerProcess): Promise<void> {
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGKILL');
  await exited;
}

describe.each(storages.map((open, i) => ({ open, label: i === 0 ? 'PGlite DATA_DIR' : 'PostgreSQL schema' })))('a server process killed before delivery, on $label', ({ open }) => {
  let storage: Storage;
  let receiver: TestReceiver;
  let first: ServerProcess | undefined;
  let second: ServerProcess | undefined;

  beforeAll(async () => {
    storage = await open();
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    if (first && first.child.exitCode === null && first.child.signalCode === null) await killed(first);
    await second?.stop();
    await receiver?.down();
    await storage?.close();
  });

  it(
    'delivers every notification after the restart, each event number present and none missing',
    async () => {
      const env = { ...storage.env, SUBSCRIPTION_ALLOW_LOOPBACK: 'true', SUBSCRIPTION_DELIVERY_LEASE_SECONDS: String(LEASE_SECONDS) };
      first = startServerProcess('first', await freePort(), env);
      await first.ready(60_000);
      const { id } = await created(first.fhir, subscription({ endpoint: receiver.url('hook') }));
      await waitFor('the handshake delivered', async () => (await fhirCall<Subscription>('GET', `${first!.fhir}/Subscription/${id}`)).body.status === 'active', 20_000);
      expect(receiver.received.map((r) => r.type)).toEqual(['handshake']);

      await receiver.down();
      await created(first.fhir, joining('Joiner 0'));
      // The first event's attempt failed and was recorded (a disclosure AuditEvent, outcome 4): it now waits for its
      // retry, and the subscription's later events wait behind it.
      await waitFor('a failed attempt in the audit trail', async () => (await failedAttempts(first!, id)) > 0, 20_000);
      for (let i = 1; i < EVENTS; i++) await created(first.fhir, joining(`Joiner ${i}`));
      // Killed as soon as the last write has returned: its event is committed, its notification not sent.
      await killed(first);
      expect(eventNumbers(receiver.received, id)).toEqual([]);
      // PGlite: the killed process could not release its DATA_DIR; the next one must reclaim it.
      if (storage.lockHolder) expect(storage.lockHolder()).toBe(first.child.pid);

      await receiver.up();
      second = startServerProcess('second', await freePort(), env);
      await second.ready(60_000);
      if (storage.lockHolder) expect(storage.lockHolder()).toBe(second.child.pid);
      await waitFor('every event after the restart', () => distinctSorted(eventNumbers(receiver.received, id)).length >= EVENTS, ARRIVAL_MS);
      expect(distinctSorted(eventNumbers(receiver.received, id))).toEqual(oneTo(EVENTS));

      // The numbering carries on in the new process.
      await created(second.fhir, joining('After the restart'));
      await waitFor('the next event', () => eventNumbers(receiver.received, id).includes(EVENTS + 1), 20_000);
      expect(distinctSorted(eventNumbers(receiver.received, id))).toEqual(oneTo(EVENTS + 1));
      expect((await fhirCall<Subscription>('GET', `${second.fhir}/Subscription/${id}`)).body.status).toBe('active');
      // Every delivery is in the audit trail, whichever process made it: the handshake and each event at least.
      await waitFor('the deliveries audited', async () => (await attempts(second!, id, '0')) >= EVENTS + 2, 20_000);
    },
    ARRIVAL_MS + 120_000,
  );
});

/** The failed attempts at `subscription` the audit trail holds (one AuditEvent per attempt: server/audit/notification-events.ts). */
const failedAttempts = (server: ServerProcess, subscriptionId: string): Promise<number> => attempts(server, subscriptionId, '4');

/** The attempts at `subscription` of an AuditEvent outcome (0 delivered, 4 failed) the audit trail holds. */
async function attempts(server: ServerProcess, subscriptionId: string, outcome: '0' | '4'): Promise<number> {
  const answer = await fhirCall<Bundle>('GET', `${server.fhir}/AuditEvent?entity=Subscription/${subscriptionId}&outcome=${outcome}&_summary=count`);
  expect(answer.status).toBe(200);
  return answer.body.total ?? 0;
}
