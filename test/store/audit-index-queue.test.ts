import type { AuditEvent } from 'fhir/r4';
import { extractIndexRows } from '../../server/search/index/extract.js';
import { parseSearch } from '../../server/search/query/parse.js';
import { R4_REGISTRY } from '../../server/search/registry.js';
import { createAuditIndexRounds, moveQueuedAuditIndex } from '../../server/store/audit-index-queue.js';
import { reindex } from '../../server/store/reindex.js';
import { AUDIT_INDEX_TABLES } from '../../server/store/search-index-sql.js';
import { SqlResourceStore } from '../../server/store/sql-resource-store.js';
import { BACKENDS, reportBackends, type TestDatabase } from '../support/backends.js';

reportBackends();

const index = (resource: Parameters<typeof extractIndexRows>[0]) => extractIndexRows(resource, R4_REGISTRY);

/** An event with rows in four index tables: tokens (type, subtype, action, outcome), a date, references, a string. */
function event(patient: string, recorded = '2026-05-06T07:08:09.123Z'): AuditEvent {
  return {
    resourceType: 'AuditEvent',
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
    subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }],
    action: 'R',
    recorded,
    outcome: '0',
    agent: [{ who: { reference: `Practitioner/pr-${patient}`, display: 'Dr Queue' }, name: 'Dr Queue', requestor: true }],
    source: { observer: { display: 'test' } },
    entity: [{ what: { reference: `Patient/${patient}` } }],
  };
}

describe.each(BACKENDS)('the audit trail\'s index queue (migration 011) on $name', (backend) => {
  let database: TestDatabase;
  let store: SqlResourceStore;
  beforeAll(async () => {
    database = await backend.open();
    store = new SqlResourceStore(database.db, index);
  });
  afterAll(async () => database?.close());

  const queued = async () => (await database.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_index_queue'))[0].n;
  /** Every index row of the trail, as text, sorted: what the tables hold, to compare whole. */
  const indexRows = async () => {
    const rows: string[] = [];
    for (const table of AUDIT_INDEX_TABLES) {
      const found = await database.db.query<{ row: string }>(
        `SELECT ${table === 'audit_date' ? "to_jsonb(t) - 'rid' || jsonb_build_object('low', t.low::text, 'high', t.high::text)" : "to_jsonb(t) - 'rid'"} || jsonb_build_object('event', e.id, 'table', '${table}') AS row
         FROM ${table} t JOIN audit_event e ON e.rid = t.rid`,
      );
      rows.push(...found.map((r) => JSON.stringify(r.row)));
    }
    return rows.sort();
  };
  const searchByPatient = async (patient: string) =>
    (await store.search(parseSearch({ patient: [`Patient/${patient}`] }, ['AuditEvent'], R4_REGISTRY, { defaultCount: 20, maxCount: 100 }))).resources.map((r) => r.id);

  it('an event is stored with its rows queued, not indexed; a search moves the queue first and finds it', async () => {
    const stored = await store.create(event('q1'));
    expect(await queued()).toBe(1);
    const [{ rows }] = await database.db.query<{ rows: number }>(
      'SELECT count(*)::int AS rows FROM audit_reference r JOIN audit_event e ON e.rid = r.rid WHERE e.id = $1',
      [stored.id],
    );
    expect(rows).toBe(0);

    expect(await searchByPatient('q1')).toEqual([stored.id]);
    expect(await queued()).toBe(0);
    // Its rows are there now: the patient reference among them.
    const [{ patientRows }] = await database.db.query<{ patientRows: number }>(
      `SELECT count(*)::int AS "patientRows" FROM audit_reference r JOIN audit_event e ON e.rid = r.rid
       WHERE e.id = $1 AND r.param = 'patient' AND r.target_id = 'q1'`,
      [stored.id],
    );
    expect(patientRows).toBe(1);
  });

  it('the moved rows are those a direct index of the events writes, value for value (dates, keys, nulls)', async () => {
    // A long display is cut to the index's key budget; open date bounds are infinities.
    const long = { ...event('q2'), agent: [{ who: { reference: 'Practitioner/long' }, name: 'N'.repeat(3000), requestor: true }] };
    await store.createMany([{ resource: event('q2', '2026-01-02T03:04:05Z') }, { resource: long }]);
    expect(await moveQueuedAuditIndex(database.db)).toBe(2);
    const moved = await indexRows();
    // The reindex deletes every event's rows and writes them again straight from the content.
    await reindex(database.db, index, { resourceType: 'AuditEvent' });
    expect(await indexRows()).toEqual(moved);
    expect(moved.length).toBeGreaterThan(20);
  });

  it('a reindex leaves queued events to the queue: no event is indexed twice', async () => {
    const stored = await store.create(event('q3'));
    await reindex(database.db, index, { resourceType: 'AuditEvent' });
    expect(await queued()).toBe(1);
    await moveQueuedAuditIndex(database.db);
    const [{ rows }] = await database.db.query<{ rows: number }>(
      `SELECT count(*)::int AS rows FROM audit_reference r JOIN audit_event e ON e.rid = r.rid WHERE e.id = $1 AND r.param = 'patient'`,
      [stored.id],
    );
    expect(rows).toBe(1);
  });

  it('concurrent movers take turns: each queued event is indexed once, and each mover returns with the queue empty', async () => {
    await store.createMany(Array.from({ length: 60 }, (_, i) => ({ resource: event(`c${i % 3}`) })));
    expect(await queued()).toBe(60);
    const counts = await Promise.all([moveQueuedAuditIndex(database.db), moveQueuedAuditIndex(database.db), moveQueuedAuditIndex(database.db)]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(60);
    expect(await queued()).toBe(0);
    const [{ rows }] = await database.db.query<{ rows: number }>(
      `SELECT count(*)::int AS rows FROM audit_reference WHERE param = 'patient' AND target_id IN ('c0', 'c1', 'c2')`,
    );
    expect(rows).toBe(60);
  });

  it('the server\'s rounds move the queue without a search, and stop waits for a running round', async () => {
    await store.create(event('r1'));
    const rounds = createAuditIndexRounds(database.db, { intervalMs: 20 });
    rounds.start();
    for (let i = 0; i < 200 && (await queued()) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    await rounds.stop();
    expect(await queued()).toBe(0);
    await store.create(event('r2'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Stopped: nothing moves it any more.
    expect(await queued()).toBe(1);
    await moveQueuedAuditIndex(database.db);
  });
});
