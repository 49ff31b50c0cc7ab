import type { Logger } from 'pino';
import type { Database } from './database.js';
import { periodicRound } from './periodic-round.js';

/**
 * The planner's statistics kept fresh by the server when nothing else does: PGlite runs no autovacuum, and a
 * PostgreSQL may have it off. Without it a database fed through the API keeps the statistics of its empty tables, and
 * a CarePlan search by patient and status starts from every active plan instead of the patient's (docs/PERFORMANCE.md).
 *
 * The rule is autovacuum's own analyze rule: a table is analyzed once the rows changed since its last analyze exceed
 * `autovacuum_analyze_threshold + autovacuum_analyze_scale_factor × reltuples` (read from the database, 50 and 0.1
 * unless its administrator changed them). The changes are PostgreSQL's cumulative statistics
 * (`pg_stat_user_tables.n_mod_since_analyze`), which it keeps with autovacuum off as well. PGlite keeps them too,
 * but (PGlite 0.5, tried) publishes its session's pending counts only when asked (`pg_stat_force_next_flush()`),
 * and keeps them in memory only: a
 * restart forgets the changes not yet analyzed. So on PGlite `stop` runs one last round before the database closes,
 * and a process's first round also takes a table that holds rows but was never analyzed, whatever its counter says
 * (a database fed through the API, then stopped by a crash). Changes below the threshold at a stop are forgotten.
 */

/** What one round did. */
export type UpkeepRound =
  | { outcome: 'analyzed'; tables: string[] }
  /** Nothing drifted: one small query (two on PGlite: the flush) and no lock. */
  | { outcome: 'unchanged' }
  /** Another process held the upkeep lock: its round covers this schema. */
  | { outcome: 'busy' }
  /** The previous round of this upkeep is still running. */
  | { outcome: 'overlap' }
  | { outcome: 'off' };

export interface StatisticsUpkeepOptions {
  /** false: rounds do nothing (a deployment whose autovacuum is on). */
  enabled: boolean;
  /** Time between the end of one round and the start of the next. */
  intervalMs: number;
  logger?: Logger;
}

export interface StatisticsUpkeep {
  /** One round now: the tables whose changes crossed the threshold are analyzed. */
  round(): Promise<UpkeepRound>;
  /** What the timer runs: a round whose errors are logged (once per run of failures), never thrown. */
  tick(): Promise<void>;
  /** Rounds every `intervalMs` from now on (nothing when disabled). */
  start(): void;
  /**
   * No more rounds; resolves once a running one has ended (before the database closes). On PGlite, which forgets its
   * change counts when it closes, one last round first.
   */
  stop(): Promise<void>;
}

/**
 * Tables this role may analyze: only their owner (or a superuser) may, on PostgreSQL 15 and 16; a server role that may
 * only read and write them (docs/DEPLOY.md) would otherwise count them drifted every round and analyze none.
 */
const OWNED = `pg_has_role(c.relowner, 'USAGE')`;

/**
 * The tables of the current schema whose statistics drifted: pg_class with the counter's own function, since the
 * pg_stat_user_tables view computes every statistic of every relation of the database first (3 to 5 times slower).
 * `neverAnalyzed` adds the tables holding rows that were never analyzed, which only a process's first round needs
 * (later changes are counted); it asks the size of each such table, empty ones included (about 2 ms on PGlite).
 */
function driftedSql(neverAnalyzed: boolean): string {
  return `
  SELECT n.nspname AS schema, c.relname AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = current_schema() AND c.relkind = 'r' AND ${OWNED}
     AND (pg_stat_get_mod_since_analyze(c.oid) > current_setting('autovacuum_analyze_threshold')::float8
                                                + current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(c.reltuples, 0)
          ${neverAnalyzed ? 'OR (c.reltuples < 0 AND pg_relation_size(c.oid) > 0)' : ''})
   ORDER BY c.relname`;
}

/**
 * PostgreSQL only (one process holds PGlite). One key per schema: processes sharing a schema take turns, while servers (or test suites) on other schemas of one
 * database analyze their own tables independently.
 */
const TRY_LOCK = `SELECT pg_try_advisory_xact_lock(hashtextextended('ccp statistics upkeep ' || current_schema(), 0)) AS locked`;

export function createStatisticsUpkeep(db: Database, options: StatisticsUpkeepOptions): StatisticsUpkeep {
  let firstRound = true;
  const rounds = periodicRound<UpkeepRound>({
    name: 'statistics upkeep',
    intervalMs: options.intervalMs,
    logger: options.logger,
    run: () => analyzeDrifted(db, firstRound).then((result) => ((firstRound = false), result)),
    report(result, ms) {
      if (result.outcome === 'analyzed') options.logger?.info({ tables: result.tables, ms }, 'statistics upkeep: tables analyzed');
    },
  });

  return {
    round: () => (options.enabled ? rounds.round() : Promise.resolve({ outcome: 'off' })),
    tick: () => (options.enabled ? rounds.tick() : Promise.resolve()),
    start() {
      if (!options.enabled) return;
      rounds.start();
      if (db.dialect === 'postgres') {
        // Both would analyze the same tables: say so once, and how to leave it to autovacuum. A role that owns no table
        // can analyze none: say that instead, louder.
        db.query<{ autovacuum: string; owner: boolean }>(
          `SELECT current_setting('autovacuum') AS autovacuum,
                  EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                           WHERE n.nspname = current_schema() AND c.relkind = 'r' AND ${OWNED}) AS owner`,
        ).then(
          ([row]) => {
            if (row && !row.owner) options.logger?.warn(`statistics upkeep: this database role owns none of the tables, and only their owner may analyze them; set STATISTICS_UPKEEP=false and keep PostgreSQL's autovacuum on (it is ${row.autovacuum} here)`);
            else if (row?.autovacuum === 'on') options.logger?.info('statistics upkeep: PostgreSQL runs autovacuum here, which keeps statistics too; STATISTICS_UPKEEP=false leaves it to autovacuum');
          },
          () => undefined,
        );
      }
    },
    async stop() {
      await rounds.stop();
      if (options.enabled && db.dialect === 'pglite') await rounds.tick();
    },
  };
}

async function analyzeDrifted(db: Database, neverAnalyzed: boolean): Promise<UpkeepRound> {
  if (db.dialect === 'pglite') {
    // The flush happens when this statement ends, so the next one sees every write made so far.
    await db.query('SELECT pg_stat_force_next_flush()');
    const drifted = await db.query<Drifted>(driftedSql(neverAnalyzed));
    // One process holds the embedded database, so no lock; and each table on its own, not in one transaction, since
    // PGlite answers one statement at a time: requests get their turn between two tables.
    for (const table of drifted) await db.exec(analyze(table));
    return drifted.length ? { outcome: 'analyzed', tables: drifted.map((table) => table.name) } : { outcome: 'unchanged' };
  }
  if ((await db.query<Drifted>(driftedSql(neverAnalyzed))).length === 0) return { outcome: 'unchanged' };
  return db.transaction(async (tx) => {
    const [lock] = await tx.query<{ locked: boolean }>(TRY_LOCK);
    if (!lock?.locked) return { outcome: 'busy' };
    // Again under the lock: a process that held it a moment ago may have analyzed them already.
    const drifted = await tx.query<Drifted>(driftedSql(neverAnalyzed));
    // ANALYZE blocks neither reads nor writes: holding the lock to the end costs the other processes nothing.
    for (const table of drifted) await tx.exec(analyze(table));
    return drifted.length ? { outcome: 'analyzed', tables: drifted.map((table) => table.name) } : { outcome: 'unchanged' };
  });
}

interface Drifted {
  schema: string;
  name: string;
}

const analyze = (table: Drifted) => `ANALYZE ${quoteIdentifier(table.schema)}.${quoteIdentifier(table.name)}`;

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
