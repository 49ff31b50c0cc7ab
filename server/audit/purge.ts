import type { Database } from '../store/database.js';
import { AUDIT_EVENT } from '../store/audit-chain.js';
import { INDEX_TABLES } from '../store/search-index-sql.js';

/** Links purged per transaction: each batch holds the chain's head only for its own short commit. */
const BATCH = 1000;

/**
 * Retention: removes the oldest AuditEvents, those stored before `cutoff`, with their versions, search index rows
 * and chain links. Only a beginning of the chain is removed (up to the first link stored at or after the cutoff),
 * and the head's anchor moves to the last removed link's sequence and hash, so $verify starts there and the rest
 * still verifies; a changed remaining event still fails. Returns how many events were removed.
 */
export async function purgeAuditTrail(db: Database, cutoff: Date, onBatch?: (purged: number) => void): Promise<number> {
  let purged = 0;
  for (;;) {
    const removed = await db.transaction(async (tx) => {
      // Taking the head row first makes concurrent purges take turns; appenders wait only for this commit.
      const [head] = await tx.query<{ anchor_seq: string }>('SELECT anchor_seq::text AS anchor_seq FROM audit_head FOR UPDATE');
      const links = await tx.query<{ seq: string; rid: string | null; stored: Date | null }>(
        `SELECT c.seq::text AS seq, r.rid::text AS rid, r.last_updated AS stored
         FROM audit_chain c LEFT JOIN resource r ON r.resource_type = '${AUDIT_EVENT}' AND r.id = c.event_id
         WHERE c.seq > $1 ORDER BY c.seq LIMIT ${BATCH}`,
        [head.anchor_seq],
      );
      // Stop at the first link not old enough; a link whose event is missing cannot be dated and stops it too.
      const old = [];
      for (const link of links) {
        if (!link.stored || !link.rid || link.stored >= cutoff) break;
        old.push(link);
      }
      if (!old.length) return 0;
      const last = old[old.length - 1].seq;
      const rids = old.map((link) => link.rid!);
      await tx.query(
        `WITH ${INDEX_TABLES.map((table) => `unindex_${table} AS (DELETE FROM ${table} WHERE rid = ANY($1::bigint[]))`).join(', ')},
         versions AS (DELETE FROM resource_version v USING resource r WHERE r.rid = ANY($1::bigint[]) AND v.resource_type = r.resource_type AND v.id = r.id),
         resources AS (DELETE FROM resource WHERE rid = ANY($1::bigint[])),
         anchor AS (UPDATE audit_head SET anchor_seq = c.seq, anchor_hash = c.hash FROM audit_chain c WHERE c.seq = $2)
         DELETE FROM audit_chain WHERE seq > $3 AND seq <= $2`,
        [rids, last, head.anchor_seq],
      );
      return old.length;
    });
    purged += removed;
    if (removed) onBatch?.(purged);
    if (removed < BATCH) return purged;
  }
}
