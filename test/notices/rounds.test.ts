import type { Communication } from 'fhir/r4';
import { type Caller } from '../../server/access/caller.js';
import { NOTICE_KIND_SYSTEM, NOTICE_SEVERITY_EXTENSION, NOTICE_WINDOW_EXTENSION } from '../../server/conformance/notice-vocabulary.js';
import { createNoticeRounds, type NoticeRound } from '../../server/notices/rounds.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import type { FhirResponse } from '../../server/rest/types.js';
import { extractIndexRows } from '../../server/search/index/extract.js';
import { R4_REGISTRY } from '../../server/search/registry.js';
import type { Database } from '../../server/store/database.js';
import type { PeriodicRound } from '../../server/store/periodic-round.js';
import { openPostgres } from '../../server/store/postgres.js';
import { TOPIC_BASE } from '../../server/subscriptions/model.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { testUser } from '../support/callers.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

/**
 * The service notices' rounds (server/notices/rounds.ts): a planned downtime's reminder before its start and its
 * completion after its end, each recorded once however many rounds run at once (on PostgreSQL, two rounds on two
 * connection pools, as two server processes would be). The rounds are given the time they take as now.
 */
const ADMIN = testUser('admin-1', undefined, ['administrator']);
const HOUR = 3600_000;
/** Every notice of this file is about a week in 2031, so real time never reaches its dates. */
const T0 = Date.parse('2031-03-01T00:00:00Z');
const at = (hours: number) => new Date(T0 + hours * HOUR);

function downtime(startHours: number, endHours: number, sentHours: number): Communication {
  return {
    resourceType: 'Communication',
    extension: [
      { url: NOTICE_SEVERITY_EXTENSION, valueCode: 'critical' },
      { url: NOTICE_WINDOW_EXTENSION, valuePeriod: { start: at(startHours).toISOString(), end: at(endHours).toISOString() } },
    ],
    status: 'in-progress',
    category: [{ coding: [{ system: NOTICE_KIND_SYSTEM, code: 'planned-downtime' }] }],
    sent: at(sentHours).toISOString(),
    payload: [{ contentString: 'Database upgrade.' }],
  };
}

describe.each(BACKENDS)('service notice rounds on $name', (backend) => {
  let server: TestServer;
  /** A second handle on the same database: another pool on PostgreSQL (another process's), the same PGlite. */
  let other: Database;
  let now = at(0);
  const index = (resource: Parameters<typeof extractIndexRows>[0]) => extractIndexRows(resource, R4_REGISTRY);
  const rounds: PeriodicRound<NoticeRound>[] = [];

  beforeAll(async () => {
    server = await openTestServer(backend);
    other = server.url ? openPostgres(server.url) : server.db;
  });
  afterAll(async () => {
    await Promise.all(rounds.map((round) => round.stop()));
    if (other !== server.db) await other.close();
    await server?.close();
  });

  const roundsOn = (db: Database) => {
    const created = createNoticeRounds(db, { index, intervalMs: 60_000, reminderHours: 24, clock: () => now });
    rounds.push(created);
    return created;
  };
  async function post(caller: Caller, body: Communication): Promise<Communication & { id: string }> {
    const response: FhirResponse = await handleFhirRequest({ method: 'POST', path: 'Communication', query: {}, headers: {}, baseUrl: 'https://ccp.example.org/fhir', caller, body }, server.context);
    expect(response.status).toBe(201);
    return response.body as Communication & { id: string };
  }
  /** A notice's reminders and completions, the rounds' and an administrator's (posted and changed: service-notices.test.ts). */
  const triggersOf = async (id: string) =>
    (
      await server.db.query<{ trigger: string; topic: string }>(
        `SELECT trigger, topic FROM subscription_event WHERE focus_type = 'Communication' AND focus_id = $1 AND trigger IN ('reminder', 'completed') ORDER BY seq`,
        [id],
      )
    ).map(
      (row) => `${row.topic.slice(TOPIC_BASE.length + 1)} ${row.trigger}`,
    );
  const current = async (id: string) => {
    const found = await server.context.store.read('Communication', id);
    if (found.kind !== 'found') throw new Error(`Communication/${id} is ${found.kind}`);
    return found.resource as Communication;
  };
  /** Two rounds at once, one per handle (and a third on the first): what each recorded, together. */
  async function concurrentRounds(): Promise<NoticeRound> {
    const results = await Promise.all([roundsOn(server.db).round(), roundsOn(other).round(), roundsOn(other).round()]);
    const recorded = results.map((result) => result as NoticeRound);
    return { reminded: recorded.flatMap((r) => r.reminded).sort(), completed: recorded.flatMap((r) => r.completed).sort() };
  }

  it('reminds once, 24 hours before the start, and completes once after the end, however many rounds run at once', async () => {
    // Five downtimes two days ahead, posted now: each gets one reminder and one completion.
    now = at(0);
    const notices = [];
    for (let i = 0; i < 5; i++) notices.push(await post(ADMIN, downtime(48, 50, 0)));
    const ids = notices.map((notice) => notice.id).sort();

    now = at(1);
    expect(await concurrentRounds()).toEqual({ reminded: [], completed: [] });

    now = at(24.5);
    expect(await concurrentRounds()).toEqual({ reminded: ids, completed: [] });
    expect(await concurrentRounds()).toEqual({ reminded: [], completed: [] });
    for (const id of ids) expect(await triggersOf(id)).toEqual(['service-notice reminder']);

    now = at(49);
    expect(await concurrentRounds()).toEqual({ reminded: [], completed: [] });

    now = at(50.25);
    expect(await concurrentRounds()).toEqual({ reminded: [], completed: ids });
    expect(await concurrentRounds()).toEqual({ reminded: [], completed: [] });
    for (const id of ids) {
      expect(await triggersOf(id)).toEqual(['service-notice reminder', 'service-notice completed']);
      const notice = await current(id);
      expect([notice.status, notice.meta?.versionId]).toEqual(['completed', '2']);
    }
    const claims = await server.db.query<{ kind: string; n: string }>(
      `SELECT kind, count(*)::text AS n FROM notice_occurrence WHERE notice_id = ANY($1::text[]) GROUP BY kind ORDER BY kind`,
      [ids],
    );
    expect(claims).toEqual([
      { kind: 'completed', n: '5' },
      { kind: 'reminder', n: '5' },
    ]);
  });

  it('no reminder for a downtime posted within the reminder lead (its posting said it) or once begun; completed all the same', async () => {
    now = at(100);
    const late = await post(ADMIN, downtime(110, 111, 100));
    now = at(105);
    expect(await concurrentRounds()).toEqual({ reminded: [], completed: [] });
    now = at(112);
    expect(await concurrentRounds()).toEqual({ reminded: [], completed: [late.id] });
    expect(await triggersOf(late.id)).toEqual(['service-notice completed']);
  });

  it('a downtime whose end passed while no round ran is completed at the next round, its reminder skipped', async () => {
    now = at(200);
    const missed = await post(ADMIN, downtime(230, 231, 200));
    now = at(240);
    expect(await concurrentRounds()).toEqual({ reminded: [], completed: [missed.id] });
    expect(await triggersOf(missed.id)).toEqual(['service-notice completed']);
  });

  it('a downtime moved after its reminder is reminded of again for its new start; one ended by hand is not completed again', async () => {
    now = at(300);
    const moved = await post(ADMIN, downtime(348, 350, 300));
    now = at(325);
    expect((await concurrentRounds()).reminded).toEqual([moved.id]);
    const later = { ...(await current(moved.id)), extension: downtime(372, 374, 300).extension } as Communication & { id: string };
    expect((await handleFhirRequest({ method: 'PUT', path: `Communication/${moved.id}`, query: {}, headers: {}, baseUrl: 'https://ccp.example.org/fhir', caller: ADMIN, body: later }, server.context)).status).toBe(200);
    expect((await concurrentRounds()).reminded).toEqual([]);
    now = at(349);
    expect((await concurrentRounds()).reminded).toEqual([moved.id]);
    // The administrator ends it early, by hand: the rounds leave it alone from then on.
    const ended = { ...(await current(moved.id)), status: 'completed' } as Communication & { id: string };
    expect((await handleFhirRequest({ method: 'PUT', path: `Communication/${moved.id}`, query: {}, headers: {}, baseUrl: 'https://ccp.example.org/fhir', caller: ADMIN, body: ended }, server.context)).status).toBe(200);
    now = at(400);
    expect(await concurrentRounds()).toEqual({ reminded: [], completed: [] });
    // Completed once: by the administrator's write (its own event), never again by a round.
    expect(await triggersOf(moved.id)).toEqual(['service-notice reminder', 'service-notice reminder', 'service-notice completed']);
  });

  it('leaves other kinds of notice alone', async () => {
    now = at(500);
    const outage = await post(ADMIN, { ...downtime(500, 501, 500), category: [{ coding: [{ system: NOTICE_KIND_SYSTEM, code: 'unplanned-outage' }] }] });
    now = at(600);
    expect(await concurrentRounds()).toEqual({ reminded: [], completed: [] });
    expect((await current(outage.id)).status).toBe('in-progress');
  });
});
