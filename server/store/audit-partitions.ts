import type { Logger } from 'pino';
import { type Database, SQLSTATE, sqlState } from './database.js';
import { type PeriodicRound, periodicRound } from './periodic-round.js';

/** How far ahead the trail's monthly partitions are made (migration 007). */
const MONTHS_AHEAD = 3;

/**
 * The months to make: from this month (or the oldest month whose events sit in the DEFAULT partition, which
 * `audit_add_partitions` moves into their own, migration 010) to MONTHS_AHEAD months on. DEFAULT is empty unless a
 * server ran past the months made ahead, so its minimum costs nothing in the usual case.
 */
const ADD = `SELECT audit_add_partitions(least(now(), (SELECT min(last_updated) FROM audit_event_default)), now() + interval '${MONTHS_AHEAD} months') AS made`;

/**
 * At every start and `npm run migrate` (idempotent; whichever processes start, each partition is made once). A role
 * that may only read and write the tables (docs/DEPLOY.md) cannot make them: the months already made serve, and the
 * running server's round (below) says so if one is missing.
 */
export async function addAuditPartitions(db: Database): Promise<number> {
  try {
    const [row] = await db.query<{ made: number }>(ADD);
    return row.made;
  } catch (error) {
    if (sqlState(error) === SQLSTATE.insufficientPrivilege) return 0;
    throw error;
  }
}

/** What one round did. */
export type PartitionRound =
  | { outcome: 'made'; partitions: number }
  /** Every month from now to MONTHS_AHEAD on has its partitions, and DEFAULT holds no event. */
  | { outcome: 'unchanged' }
  /** Another process held the lock: its round covers this schema. */
  | { outcome: 'busy' }
  /** A month is missing and this role may not make it (docs/DEPLOY.md: `npm run migrate` as the owner). */
  | { outcome: 'not-permitted'; reason: string };

export interface AuditPartitionUpkeepOptions {
  intervalMs: number;
  logger?: Logger;
}

/** PostgreSQL only (one process holds PGlite): one key per schema, as the statistics upkeep's. */
const TRY_LOCK = `SELECT pg_try_advisory_xact_lock(hashtextextended('ccp audit partitions ' || current_schema(), 0)) AS locked`;

/**
 * The running server keeps the months made ahead (a server up for longer than MONTHS_AHEAD months would otherwise
 * store its events in DEFAULT, which retention then deletes row by row instead of dropping months): a round at start
 * and every `intervalMs` (a day), under a try-lock so that the processes sharing a schema do not queue for it.
 * A role that may not create partitions is told once per process, in a warning naming the missing partition (a
 * table and a month, nothing of any event), and its later rounds say nothing more.
 */
export function createAuditPartitionUpkeep(db: Database, options: AuditPartitionUpkeepOptions): PeriodicRound<PartitionRound> {
  let toldNotPermitted = false;
  return periodicRound<PartitionRound>({
    name: 'audit partitions',
    intervalMs: options.intervalMs,
    logger: options.logger,
    firstAtStart: true,
    run: () => partitionRound(db),
    report(result, ms) {
      if (result.outcome === 'made') options.logger?.info({ partitions: result.partitions, ms }, 'audit partitions: monthly partitions made');
      if (result.outcome === 'not-permitted' && !toldNotPermitted) {
        toldNotPermitted = true;
        options.logger?.warn(
          `audit partitions: ${result.reason}; events of a month without its partition go to the DEFAULT partition until the schema's owner runs npm run migrate (docs/DEPLOY.md), which moves them into their month`,
        );
      }
    },
  });
}

async function partitionRound(db: Database): Promise<PartitionRound> {
  try {
    return await db.transaction(async (tx) => {
      if (db.dialect === 'postgres') {
        const [lock] = await tx.query<{ locked: boolean }>(TRY_LOCK);
        if (!lock?.locked) return { outcome: 'busy' };
      }
      const [row] = await tx.query<{ made: number }>(ADD);
      return row.made ? { outcome: 'made', partitions: row.made } : { outcome: 'unchanged' };
    });
  } catch (error) {
    if (sqlState(error) === SQLSTATE.insufficientPrivilege) return { outcome: 'not-permitted', reason: (error as Error).message };
    throw error;
  }
}
