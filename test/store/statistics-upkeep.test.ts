import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Patient } from 'fhir/r4';
import { pino } from 'pino';
import { emptyIndexRows } from '../../server/search/types.js';
import type { Database } from '../../server/store/database.js';
import { openDatabase } from '../../server/store/open.js';
import { openPostgres } from '../../server/store/postgres.js';
import { SqlResourceStore } from '../../server/store/sql-resource-store.js';
import { createStatisticsUpkeep, type StatisticsUpkeep } from '../../server/store/statistics-upkeep.js';
import { BACKENDS, createEmptySchema, describeWithPostgres, itWithPostgres, reportBackends, type TestDatabase, postgresBackend } from '../support/backends.js';
import { migratedDataDir } from '../support/data-dir.js';
import { createReadWriteRole } from '../support/database-role.js';
import { migrate } from '../../server/store/migrate.js';

reportBackends();

// Patients without index rows: each create changes exactly one row of `resource` and one of `resource_version`,
// so the counts below are worked out by hand from PostgreSQL's analyze rule (changes > 50 + 0.1 × reltuples).
const patients = (count: number) => Array.from({ length: count }, () => ({ resource: { resourceType: 'Patient', active: true } as Patient }));

interface TableStatistics {
  changes: number;
  analyzed: number;
  reltuples: number;
}

async function statisticsOf(db: Database, table: string): Promise<TableStatistics> {
  const [row] = await db.query<TableStatistics>(
    `SELECT s.n_mod_since_analyze::int AS changes, s.analyze_count::int AS analyzed, c.reltuples::float8 AS reltuples
       FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
      WHERE s.schemaname = current_schema() AND s.relname = $1`,
    [table],
  );
  if (!row) throw new Error(`no statistics for ${table}`);
  return row;
}

/**
 * Waits until the cumulative statistics show `changes` for `table`: PostgreSQL's sessions send their counts about
 * once a second, PGlite when asked. A wait for the database, not a timed assertion: it fails only if they never come.
 */
async function changesReach(db: Database, table: string, changes: number): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    if (db.dialect === 'pglite') await db.query('SELECT pg_stat_force_next_flush()');
    await db.query('SELECT pg_stat_clear_snapshot()');
    if ((await statisticsOf(db, table)).changes === changes) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${table} never showed ${changes} changes (it shows ${(await statisticsOf(db, table)).changes})`);
}

const upkeepOf = (db: Database, enabled = true) => createStatisticsUpkeep(db, { enabled, intervalMs: 3_600_000 });

describe.each(BACKENDS)('statistics upkeep on $name', (backend) => {
  let database: TestDatabase;
  let store: SqlResourceStore;
  let upkeep: StatisticsUpkeep;
  beforeAll(async () => {
    database = await backend.open();
    store = new SqlResourceStore(database.db, () => emptyIndexRows());
    upkeep = upkeepOf(database.db);
  });
  afterAll(async () => database?.close());

  it('analyzes a table that holds rows but was never analyzed, whatever its change count', async () => {
    await store.createMany(patients(3));
    await changesReach(database.db, 'resource', 3);
    const round = await upkeep.round();
    expect(round).toMatchObject({ outcome: 'analyzed' });
    expect(round.outcome === 'analyzed' && round.tables).toEqual(expect.arrayContaining(['resource', 'resource_version']));
    expect((await statisticsOf(database.db, 'resource')).reltuples).toBe(3);
  });

  it('analyzes a table once its changes exceed 50 + 0.1 × its rows, and not one change before', async () => {
    // Every table starts analyzed and unchanged: 3 rows in `resource`, so its threshold is 50.3.
    await changesReach(database.db, 'resource', 0);
    expect(await upkeep.round()).toEqual({ outcome: 'unchanged' });

    await store.createMany(patients(50));
    await changesReach(database.db, 'resource', 50);
    expect(await upkeep.round()).toEqual({ outcome: 'unchanged' });
    expect((await statisticsOf(database.db, 'resource')).reltuples).toBe(3);

    await store.createMany(patients(1));
    await changesReach(database.db, 'resource', 51);
    const before = await statisticsOf(database.db, 'resource');
    expect(await upkeep.round()).toEqual({ outcome: 'analyzed', tables: ['resource', 'resource_version'] });
    const after = await statisticsOf(database.db, 'resource');
    expect(after).toEqual({ changes: 0, analyzed: before.analyzed + 1, reltuples: 54 });

    // 54 rows now: the threshold is 50 + 5.4 = 55.4, so 55 changes are not enough and 56 are.
    await store.createMany(patients(55));
    await changesReach(database.db, 'resource', 55);
    expect(await upkeep.round()).toEqual({ outcome: 'unchanged' });
    await store.createMany(patients(1));
    await changesReach(database.db, 'resource', 56);
    expect(await upkeep.round()).toEqual({ outcome: 'analyzed', tables: ['resource', 'resource_version'] });
    expect((await statisticsOf(database.db, 'resource')).reltuples).toBe(110);
  });

  // The tests below write 200 rows each: always more than 50 + 0.1 × the rows written before them (at most 710).
  it('a round after a round, with nothing written in between, runs no ANALYZE', async () => {
    await store.createMany(patients(200));
    await changesReach(database.db, 'resource', 200);
    expect(await upkeep.round()).toMatchObject({ outcome: 'analyzed' });
    const before = await statisticsOf(database.db, 'resource');
    expect(await upkeep.round()).toEqual({ outcome: 'unchanged' });
    expect(await statisticsOf(database.db, 'resource')).toEqual(before);
  });

  it('never runs two rounds of one upkeep at once', async () => {
    await store.createMany(patients(200));
    await changesReach(database.db, 'resource', 200);
    const first = upkeep.round();
    const second = upkeep.round();
    expect(await second).toEqual({ outcome: 'overlap' });
    expect(await first).toMatchObject({ outcome: 'analyzed' });
  });

  it('switched off, it analyzes nothing however much changed', async () => {
    await store.createMany(patients(200));
    await changesReach(database.db, 'resource', 200);
    const before = await statisticsOf(database.db, 'resource');
    const off = upkeepOf(database.db, false);
    expect(await off.round()).toEqual({ outcome: 'off' });
    off.start();
    await off.stop();
    expect(await statisticsOf(database.db, 'resource')).toEqual(before);
    // Left for the next round of the upkeep that is on.
    expect(await upkeep.round()).toMatchObject({ outcome: 'analyzed' });
  });
});

describe.each(BACKENDS)('statistics upkeep facing a database error on $name', (backend) => {
  it('logs the failure once, throws nothing, and logs again only after a round succeeds', async () => {
    const database = await backend.open();
    const lines: Array<{ msg: string }> = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _encoding, done) => (lines.push(JSON.parse(String(chunk))), done()) }));
    const upkeep = createStatisticsUpkeep(database.db, { enabled: true, intervalMs: 3_600_000, logger });
    await database.close();
    await expect(upkeep.tick()).resolves.toBeUndefined();
    await expect(upkeep.tick()).resolves.toBeUndefined();
    expect(lines.map((line) => line.msg)).toEqual([expect.stringMatching(/^statistics upkeep: round failed/)]);
  });
});

describe('statistics upkeep across a restart of the embedded database', () => {
  it('stop runs one last round, since PGlite forgets its change counts when it closes', async () => {
    const dataDir = migratedDataDir(mkdtempSync(path.join(os.tmpdir(), 'ccp-upkeep-')));
    try {
      let db = await openDatabase({ dataDir });
      const upkeep = upkeepOf(db);
      await new SqlResourceStore(db, () => emptyIndexRows()).createMany(patients(5));
      expect(await upkeep.round()).toMatchObject({ outcome: 'analyzed' });
      await new SqlResourceStore(db, () => emptyIndexRows()).createMany(patients(70));
      await upkeep.stop();
      await db.close();

      db = await openDatabase({ dataDir });
      // The counts are gone, but the last round's statistics are on disk.
      await changesReach(db, 'resource', 0);
      expect((await statisticsOf(db, 'resource')).reltuples).toBe(75);
      await db.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describeWithPostgres('two statistics upkeeps on one PostgreSQL schema', 'the tests of two upkeeps sharing one PostgreSQL schema', (url) => {
  let database: TestDatabase;
  let other: Database;
  let store: SqlResourceStore;
  beforeAll(async () => {
    database = await postgresBackend(url).open();
    // A second pool on the same schema: another server process, as far as PostgreSQL can tell.
    other = openPostgres(database.url ?? '');
    store = new SqlResourceStore(database.db, () => emptyIndexRows());
    await store.createMany(patients(1));
    await changesReach(database.db, 'resource', 1);
    await upkeepOf(database.db).round();
  });
  afterAll(async () => {
    await other?.close();
    await database?.close();
  });

  it('only one analyzes when both run at once', async () => {
    await store.createMany(patients(80));
    await changesReach(database.db, 'resource', 80);
    const before = await statisticsOf(database.db, 'resource');
    const rounds = await Promise.all([upkeepOf(database.db).round(), upkeepOf(other).round()]);
    const analyzed = rounds.flatMap((round) => (round.outcome === 'analyzed' ? round.tables : []));
    expect(analyzed.filter((table) => table === 'resource')).toEqual(['resource']);
    expect((await statisticsOf(database.db, 'resource')).analyzed).toBe(before.analyzed + 1);
  });

  it('skips its round while another process holds the upkeep lock', async () => {
    await store.createMany(patients(80));
    await changesReach(database.db, 'resource', 80);
    const before = await statisticsOf(database.db, 'resource');
    const round = await other.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('ccp statistics upkeep ' || current_schema(), 0))`);
      return upkeepOf(database.db).round();
    });
    expect(round).toEqual({ outcome: 'busy' });
    expect(await statisticsOf(database.db, 'resource')).toEqual(before);
    expect(await upkeepOf(database.db).round()).toMatchObject({ outcome: 'analyzed' });
  });
});

describe('statistics upkeep of a role that owns no table (docs/DEPLOY.md)', () => {
  itWithPostgres('counts nothing drifted, analyzes nothing, and says at start that it cannot', async (url) => {
    const schema = await createEmptySchema(url);
    await migrate(schema.db);
    const role = await createReadWriteRole(url, schema.schema, schema.url);
    const db = openPostgres(role.url);
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }));
    const upkeep = createStatisticsUpkeep(db, { enabled: true, intervalMs: 3_600_000, logger });
    try {
      await new SqlResourceStore(db, () => emptyIndexRows()).createMany(patients(80));
      await changesReach(db, 'resource', 80);
      expect(await upkeep.round()).toEqual({ outcome: 'unchanged' });
      expect((await statisticsOf(db, 'resource')).analyzed).toBe(0);
      upkeep.start();
      // The start's check is one query; waiting for its line waits for the database, it asserts no time.
      for (let attempt = 0; attempt < 400 && !lines.length; attempt++) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(lines.join('')).toMatch(/this database role owns none of the tables, and only their owner may analyze them; set STATISTICS_UPKEEP=false/);
    } finally {
      await upkeep.stop();
      await db.close();
      await role.drop();
      await schema.close();
    }
  });
});
