import type { Logger } from 'pino';
import type { Database } from './database.js';
import { insertQueuedAuditIndexCtes } from './search-index-sql.js';
import { Statement } from '../search/sql/statement.js';
import { type PeriodicRound, periodicRound } from './periodic-round.js';

/** Events whose index rows one statement moves: a bound on what one statement holds. */
const BATCH = 1000;

/**
 * Moves the queued index rows of AuditEvents (migration 011) into the audit index tables, until none is left; returns
 * how many events it moved. Each batch is one statement: the queue rows are taken (deleted, returning their rows)
 * and their index rows inserted together, so an event's rows are either queued or indexed, never both nor neither.
 *
 * Concurrent movers take turns: the batch locks its queue rows, and a mover that meets a locked row waits for the
 * other's commit and then finds it gone. So once this returns, every event committed before it was called is in the
 * index tables, whoever moved it: what a search of the audit trail relies on (store/search.ts).
 */
export async function moveQueuedAuditIndex(db: Database): Promise<number> {
  let moved = 0;
  for (;;) {
    const sql = new Statement();
    const [row] = await db.query<{ moved: number }>(
      sql.with(
        [
          `taken AS (DELETE FROM audit_index_queue q
             USING (SELECT rid FROM audit_index_queue ORDER BY rid LIMIT ${sql.param(BATCH)} FOR UPDATE) s
             WHERE q.rid = s.rid RETURNING q.rid, q.last_updated, q.rows)`,
          ...insertQueuedAuditIndexCtes('taken'),
        ],
        'SELECT count(*)::int AS moved FROM taken',
      ),
      sql.params,
      { prepared: true },
    );
    if (!row.moved) return moved;
    moved += row.moved;
  }
}

/**
 * The server's rounds: the queue moved every `intervalMs`, so that it stays short and a search of the trail seldom
 * has much to move first (server/store/periodic-round.ts: one at a time, failures logged once per run).
 */
export function createAuditIndexRounds(db: Database, { intervalMs, logger }: { intervalMs: number; logger?: Logger }): PeriodicRound<number> {
  return periodicRound({ name: 'audit index queue', intervalMs, logger, run: () => moveQueuedAuditIndex(db) });
}
