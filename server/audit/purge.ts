import { moveQueuedAuditIndex } from '../store/audit-index-queue.js';
import type { Database } from '../store/database.js';
import { AUDIT_INDEX_TABLES } from '../store/search-index-sql.js';

/** Links read, or rows removed, per statement: no statement holds much at once. */
const BATCH = 5000;

/** The audit tables, each partitioned by month (migration 007): a month's partitions are `<table>_pYYYYMM`. */
const AUDIT_TABLES = ['audit_event', ...AUDIT_INDEX_TABLES];

/**
 * Retention: removes the oldest AuditEvents, those stored before `cutoff`, with their search index rows and chain
 * links. Only a beginning of the chain is removed (up to the first link whose event was stored at or after the
 * cutoff), and the head's anchor moves to the last removed link's sequence and hash, so $verify starts there and
 * the rest still verifies; a changed remaining event still fails. Returns how many events were removed.
 *
 * The trail is partitioned by month: a month wholly before the cutoff whose events all lie in that beginning is
 * dropped whole (its partitions, in one short transaction that also moves the anchor), which costs the same for
 * a million events as for one. Events of the boundary month (and any in the DEFAULT partition) are deleted as
 * rows afterwards; until then they sit below the anchor, where $verify does not look, still linked. A purge cut
 * short leaves only such rows, which the next one removes first.
 */
export async function purgeAuditTrail(db: Database, cutoff: Date, onBatch?: (purged: number) => void): Promise<number> {
  // Queued index rows first, so that none is left behind for an event removed here.
  await moveQueuedAuditIndex(db);
  await removeBelowAnchor(db);
  for (;;) {
    const [head] = await db.query<{ anchor_seq: string; seq: string }>('SELECT anchor_seq::text AS anchor_seq, seq::text AS seq FROM audit_head');
    // Read without the head's lock: links below the head never change, and the anchor is checked again below.
    const last = await lastOldLink(db, head.anchor_seq, head.seq, cutoff);
    if (last === head.anchor_seq) return 0;
    const whole = await droppableMonths(db, cutoff, last);
    const moved = await db.transaction(async (tx) => {
      // Dropping a partition locks its parent table. Taken before the head: an append holds the parent tables
      // from the start of its statement and only then waits for the head, so the other order could deadlock.
      if (whole.length) await tx.exec(`LOCK TABLE ${AUDIT_TABLES.join(', ')} IN ACCESS EXCLUSIVE MODE`);
      // Taking the head row makes concurrent purges take turns; appenders wait only for this short commit.
      const [now] = await tx.query<{ anchor_seq: string }>('SELECT anchor_seq::text AS anchor_seq FROM audit_head FOR UPDATE');
      if (now.anchor_seq !== head.anchor_seq) return false;
      for (const month of whole) for (const table of AUDIT_TABLES) await tx.exec(`DROP TABLE IF EXISTS ${table}_p${month}`);
      await tx.query('UPDATE audit_head SET anchor_seq = c.seq, anchor_hash = c.hash FROM audit_chain c WHERE c.seq = $1', [last]);
      return true;
    });
    if (!moved) continue;
    const purged = Number(BigInt(last) - BigInt(head.anchor_seq));
    onBatch?.(purged);
    await removeBelowAnchor(db);
    return purged;
  }
}

/**
 * The last link, from the anchor on, before the first whose event was stored at or after the cutoff (or is
 * missing: it cannot be dated); the anchor itself when the first link is not old.
 */
async function lastOldLink(db: Database, anchor: string, head: string, cutoff: Date): Promise<string> {
  let last = anchor;
  for (;;) {
    const links = await db.query<{ seq: string; stored: Date | null }>(
      // Joined by the link's last_updated too, as $verify does (store/audit-verify.ts): each event is looked up in
      // its own month's partition instead of in every one.
      `SELECT c.seq::text AS seq, e.last_updated AS stored FROM audit_chain c
       LEFT JOIN audit_event e ON e.id = c.event_id AND e.last_updated = c.last_updated
       WHERE c.seq > $1 AND c.seq <= $2 ORDER BY c.seq LIMIT ${BATCH}`,
      [last, head],
    );
    for (const link of links) {
      if (!link.stored || link.stored >= cutoff) return last;
      last = link.seq;
    }
    if (links.length < BATCH) return last;
  }
}

/** Months (`YYYYMM`) whose partitions end by the cutoff and whose every event is linked at or before `last`. */
async function droppableMonths(db: Database, cutoff: Date, last: string): Promise<string[]> {
  const partitions = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'audit_event'::regclass AND c.relname ~ '^audit_event_p[0-9]{6}$' ORDER BY c.relname`,
  );
  const months: string[] = [];
  for (const { name } of partitions) {
    const month = name.slice('audit_event_p'.length);
    const end = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(4)), 1));
    if (end > cutoff) break;
    // An event stored in the month but linked after `last` (it committed after a newer one) keeps the month.
    const [late] = await db.query<{ late: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM ${name} e LEFT JOIN audit_chain c ON c.event_id = e.id WHERE c.seq IS NULL OR c.seq > $1) AS late`,
      [last],
    );
    if (!late.late) months.push(month);
  }
  return months;
}

/** The events (with their index rows) and then the links at or below the anchor, batch by batch. */
async function removeBelowAnchor(db: Database): Promise<void> {
  for (;;) {
    const links = await db.query<{ seq: string }>(
      `SELECT c.seq::text AS seq FROM audit_chain c, audit_head h WHERE c.seq <= h.anchor_seq ORDER BY c.seq LIMIT ${BATCH}`,
    );
    if (!links.length) return;
    const [first, last] = [links[0].seq, links[links.length - 1].seq];
    await db.transaction(async (tx) => {
      await tx.query(
        `WITH gone AS (DELETE FROM audit_event e USING audit_chain c WHERE c.seq >= $1 AND c.seq <= $2 AND e.id = c.event_id RETURNING e.rid),
         ${AUDIT_INDEX_TABLES.map((table) => `unindex_${table} AS (DELETE FROM ${table} WHERE rid IN (SELECT rid FROM gone))`).join(',\n')}
         DELETE FROM audit_chain WHERE seq >= $1 AND seq <= $2`,
        [first, last],
      );
    });
  }
}
