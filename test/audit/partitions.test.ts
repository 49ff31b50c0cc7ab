import { Writable } from 'node:stream';
import type { Bundle, OperationOutcome } from 'fhir/r4';
import { pino } from 'pino';
import { UNRESTRICTED } from '../../server/access/caller.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import type { FhirRequest, FhirResponse } from '../../server/rest/types.js';
import { addAuditPartitions, createAuditPartitionUpkeep } from '../../server/store/audit-partitions.js';
import type { Database } from '../../server/store/database.js';
import { migrate } from '../../server/store/migrate.js';
import { AUDIT_PARTITIONED_TABLES } from '../../server/store/migrations/007-audit-tables.js';
import { openPostgres } from '../../server/store/postgres.js';
import { BACKENDS, createEmptySchema, itWithPostgres, reportBackends } from '../support/backends.js';
import { createReadWriteRole } from '../support/database-role.js';
import { moveQueuedAuditIndex } from '../../server/store/audit-index-queue.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

const DAY = 86_400_000;
/** `YYYYMM` of the UTC month `offset` months from `date`'s. */
function monthOf(date: Date, offset = 0): string {
  const month = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + offset, 1));
  return `${month.getUTCFullYear()}${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
}

const exists = async (db: Database, table: string) => (await db.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [table]))[0].present;
const count = async (db: Database, table: string) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0].n;

/** As if no one had made `month`: its partitions of every audit table dropped (they must be empty). */
async function dropMonth(db: Database, month: string): Promise<void> {
  for (const table of AUDIT_PARTITIONED_TABLES) await db.exec(`DROP TABLE ${table}_p${month}`);
}

/** As if the server had run past the months made ahead: `month`'s partitions detached and their rows stored again, so in DEFAULT. */
async function monthIntoDefault(db: Database, month: string): Promise<void> {
  await db.transaction(async (tx) => {
    for (const table of AUDIT_PARTITIONED_TABLES) {
      await tx.exec(`ALTER TABLE ${table} DETACH PARTITION ${table}_p${month}`);
      await tx.exec(`INSERT INTO ${table} SELECT * FROM ${table}_p${month}`);
      await tx.exec(`DROP TABLE ${table}_p${month}`);
    }
  });
}

function logLines(): { logger: pino.Logger; messages: () => string[] } {
  const lines: Array<{ msg: string }> = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _encoding, done) => (lines.push(JSON.parse(String(chunk))), done()) }));
  return { logger, messages: () => lines.map((line) => line.msg) };
}

describe.each(BACKENDS)('the audit trail\'s monthly partitions, kept by the running server, on $name', (backend) => {
  let server: TestServer;
  const now = new Date();
  beforeAll(async () => {
    server = await openTestServer(backend);
    for (let i = 0; i < 3; i++) await call('POST', 'Patient', { body: { resourceType: 'Patient', active: true } });
  });
  afterAll(async () => server?.close());

  function call(method: string, path: string, init: Partial<FhirRequest> = {}): Promise<FhirResponse> {
    return handleFhirRequest({ method, path, query: {}, headers: {}, baseUrl: 'https://fhir.example.org/fhir', caller: UNRESTRICTED, ...init }, server.context);
  }

  it('a round makes a month missing from the months ahead, once, and reports nothing to do after', async () => {
    const ahead = monthOf(now, 3);
    await dropMonth(server.db, ahead);
    const { logger, messages } = logLines();
    const upkeep = createAuditPartitionUpkeep(server.db, { intervalMs: 3_600_000, logger });
    expect(await upkeep.round()).toEqual({ outcome: 'made', partitions: AUDIT_PARTITIONED_TABLES.length });
    for (const table of AUDIT_PARTITIONED_TABLES) expect(await exists(server.db, `${table}_p${ahead}`)).toBe(true);
    expect(await upkeep.round()).toEqual({ outcome: 'unchanged' });

    // The timer's round at start, as the server runs it: logged once, with the count.
    await dropMonth(server.db, ahead);
    upkeep.start();
    for (let attempt = 0; attempt < 400 && !messages().length; attempt++) await new Promise((resolve) => setTimeout(resolve, 25));
    await upkeep.stop();
    expect(messages()).toEqual(['audit partitions: monthly partitions made']);
    expect(await exists(server.db, `audit_event_p${ahead}`)).toBe(true);
  });

  it('a month whose events sit in DEFAULT gets its partitions, the events moved into them, the chain still sound', async () => {
    const month = monthOf(now);
    // The events' index rows out of their queue (migration 011), to be moved with them.
    await moveQueuedAuditIndex(server.db);
    const before = await count(server.db, 'audit_event');
    const indexRows = await count(server.db, 'audit_token');
    await monthIntoDefault(server.db, month);
    expect(await count(server.db, 'audit_event_default')).toBe(before);
    // Adding the month the way migration 007 did refuses (PostgreSQL: DEFAULT holds rows of it), which the old function hid.
    const bound = (yyyymm: string) => `'${yyyymm.slice(0, 4)}-${yyyymm.slice(4)}-01 00:00Z'`;
    await expect(
      server.db.exec(`CREATE TABLE audit_event_p${month} PARTITION OF audit_event FOR VALUES FROM (${bound(month)}) TO (${bound(monthOf(now, 1))})`),
    ).rejects.toThrow(/would be violated by some row/);
    // Events stored meanwhile go to DEFAULT too.
    const created = await call('POST', 'Patient', { body: { resourceType: 'Patient', active: false } });
    expect(created.status).toBe(201);
    const stored = await count(server.db, 'audit_event');
    expect(await count(server.db, 'audit_event_default')).toBe(stored);

    expect(await createAuditPartitionUpkeep(server.db, { intervalMs: 3_600_000 }).round()).toEqual({ outcome: 'made', partitions: AUDIT_PARTITIONED_TABLES.length });
    expect(await count(server.db, `audit_event_p${month}`)).toBe(stored);
    expect(await count(server.db, 'audit_event_default')).toBe(0);
    expect(await count(server.db, `audit_token_p${month}`)).toBe(indexRows);
    // The later event's index rows, still queued, land in the month's partition once moved.
    await moveQueuedAuditIndex(server.db);
    expect(await count(server.db, `audit_token_p${month}`)).toBeGreaterThan(indexRows);
    expect(await count(server.db, 'audit_token_default')).toBe(0);

    // The events read, search and verify as before; new ones go to the month's partition.
    const searched = (await call('GET', 'AuditEvent', { query: { subtype: ['create'], _count: ['100'] } })).body as Bundle;
    expect(searched.entry).toHaveLength(4);
    const verdict = ((await call('GET', 'AuditEvent/$verify')).body as OperationOutcome).issue[0];
    expect(verdict).toMatchObject({ severity: 'information', diagnostics: expect.stringContaining(`verifies: ${stored + 1} links from the start`) });
    expect(await count(server.db, 'audit_event_default')).toBe(0);
    expect(await count(server.db, `audit_event_p${month}`)).toBe(stored + 2);
  });

  it('a month that only DEFAULT holds, before the months made ahead, is made too (so retention can drop it whole)', async () => {
    const old = new Date(now.getTime() - 100 * DAY);
    const [{ id }] = await server.db.query<{ id: string }>('SELECT id FROM audit_event ORDER BY rid LIMIT 1');
    await server.db.query(`UPDATE audit_event SET last_updated = $2 WHERE id = $1`, [id, old]);
    const rid = `(SELECT rid FROM audit_event WHERE id = '${id}')`;
    for (const table of AUDIT_PARTITIONED_TABLES.slice(1)) await server.db.query(`UPDATE ${table} SET last_updated = $1 WHERE rid = ${rid}`, [old]);
    expect(await count(server.db, 'audit_event_default')).toBe(1);

    // Every month from the old one to this one: those between had no partition either.
    const months = Number(monthOf(now).slice(0, 4)) * 12 + Number(monthOf(now).slice(4)) - (Number(monthOf(old).slice(0, 4)) * 12 + Number(monthOf(old).slice(4)));
    expect(await addAuditPartitions(server.db)).toBe(months * AUDIT_PARTITIONED_TABLES.length);
    expect(await count(server.db, `audit_event_p${monthOf(old)}`)).toBe(1);
    for (const table of AUDIT_PARTITIONED_TABLES) expect(await count(server.db, `${table}_default`)).toBe(0);
  });
});

describe('the partition round of a role that may only read and write the tables (docs/DEPLOY.md)', () => {
  itWithPostgres('is told it may not, says so once whatever the number of rounds, makes nothing, and the server writes on', async (url) => {
    const schema = await createEmptySchema(url);
    await migrate(schema.db);
    await addAuditPartitions(schema.db);
    const ahead = monthOf(new Date(), 3);
    await dropMonth(schema.db, ahead);
    const role = await createReadWriteRole(url, schema.schema, schema.url);
    const db = openPostgres(role.url);
    const { logger, messages } = logLines();
    const upkeep = createAuditPartitionUpkeep(db, { intervalMs: 3_600_000, logger });
    try {
      expect(await addAuditPartitions(db)).toBe(0);
      expect(await upkeep.round()).toEqual({ outcome: 'not-permitted', reason: expect.stringContaining(`may not create the audit partition audit_event_p${ahead}`) });
      for (let i = 0; i < 3; i++) await upkeep.tick();
      expect(messages()).toEqual([expect.stringMatching(/^audit partitions: this database role may not create the audit partition audit_event_p\d{6} .*npm run migrate/)]);
      expect(await exists(schema.db, `audit_event_p${ahead}`)).toBe(false);
      // Not even a lock was left behind: the role's writes to the audit tables go on.
      await db.query(`INSERT INTO audit_event (id, last_updated, content) VALUES ('role-wrote', now(), '{}')`);
      // The owner's npm run migrate makes the month.
      expect(await addAuditPartitions(schema.db)).toBe(AUDIT_PARTITIONED_TABLES.length);
      expect(await upkeep.round()).toEqual({ outcome: 'unchanged' });
    } finally {
      await upkeep.stop();
      await db.close();
      await role.drop();
      await schema.close();
    }
  });

  itWithPostgres('a round finds another process\'s round under way and leaves the schema to it', async (url) => {
    const schema = await createEmptySchema(url);
    const other = openPostgres(schema.url);
    try {
      await migrate(schema.db);
      const round = await other.transaction(async (tx) => {
        await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('ccp audit partitions ' || current_schema(), 0))`);
        return createAuditPartitionUpkeep(schema.db, { intervalMs: 3_600_000 }).round();
      });
      expect(round).toEqual({ outcome: 'busy' });
    } finally {
      await other.close();
      await schema.close();
    }
  });
});
