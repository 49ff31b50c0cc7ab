import { type Database, SQLSTATE, sqlState } from './database.js';

/** How far ahead the trail's monthly partitions are made (migration 007). */
const MONTHS_AHEAD = 3;

/**
 * Makes the audit tables' monthly partitions from this month to MONTHS_AHEAD months on, at every start (idempotent;
 * run by whichever processes start, each partition made once). A server running longer than that without a
 * restart stores its events in the DEFAULT partition, which retention then deletes row by row (docs/AUDIT.md).
 */
export async function addAuditPartitions(db: Database): Promise<number> {
  try {
    const [row] = await db.query<{ made: number }>(`SELECT audit_add_partitions(now(), now() + interval '${MONTHS_AHEAD} months') AS made`);
    return row.made;
  } catch (error) {
    // A role that may only read and write the tables (docs/DEPLOY.md) cannot make them: the DEFAULT partition
    // takes the events, and the owner's next migration or start makes the months.
    if (sqlState(error) === SQLSTATE.insufficientPrivilege) return 0;
    throw error;
  }
}
