import type { Resource } from 'fhir/r4';
import type { Database } from './database.js';
import { AUDIT_EVENT } from './audit-chain.js';
import { AUDIT_INDEX_TABLES, deleteIndexCtes, insertAuditIndexCtes, insertIndexCtes } from './search-index-sql.js';
import type { Indexer } from './sql-resource-store.js';
import { Statement } from '../search/sql/statement.js';

export interface ReindexOptions {
  resourceType?: string;
  batchSize?: number;
  onBatch?: (done: number) => void;
}

/**
 * Rebuilds the search index of every current resource (of one type, if given), batch by batch in rid order.
 * Each batch locks its rows, so a concurrent update waits and then writes its own index: the index is never
 * left describing a version that is no longer current.
 */
export async function reindex(db: Database, index: Indexer, options: ReindexOptions = {}): Promise<number> {
  let done = 0;
  if (options.resourceType !== AUDIT_EVENT) done = await reindexClinical(db, index, options);
  if (options.resourceType === undefined || options.resourceType === AUDIT_EVENT) done += await reindexAuditTrail(db, index, options, done);
  return done;
}

async function reindexClinical(db: Database, index: Indexer, options: ReindexOptions): Promise<number> {
  const batchSize = options.batchSize ?? 500;
  let after = '0';
  let done = 0;
  for (;;) {
    const batch = await db.transaction(async (tx) => {
      const params: unknown[] = [after, batchSize];
      const byType = options.resourceType ? `AND resource_type = $${params.push(options.resourceType)}` : '';
      const rows = await tx.query<{ rid: string; content: Resource }>(
        `SELECT rid::text AS rid, content FROM resource
         WHERE NOT deleted AND rid > $1::bigint ${byType} ORDER BY rid LIMIT $2 FOR UPDATE`,
        params,
      );
      for (const row of rows) {
        const sql = new Statement();
        const rid = `${sql.param(row.rid)}::bigint`;
        await tx.query(sql.with([...deleteIndexCtes(rid), ...insertIndexCtes(index(row.content), { rid }, row.content.resourceType, sql.param)], 'SELECT 1'), sql.params);
      }
      return rows;
    });
    if (!batch.length) return done;
    done += batch.length;
    after = batch[batch.length - 1].rid;
    options.onBatch?.(done);
  }
}

/**
 * The AuditEvents' index, in their own tables (migration 007). They are never updated, so nothing needs locking:
 * each batch replaces its events' rows in one statement.
 */
async function reindexAuditTrail(db: Database, index: Indexer, options: ReindexOptions, before: number): Promise<number> {
  const batchSize = options.batchSize ?? 500;
  let after = '0';
  let done = 0;
  for (;;) {
    const rows = await db.query<{ rid: string; last_updated: Date; content: Resource }>(
      // An event whose rows are still queued gets them from the queue (migration 011), not here as well.
      `SELECT rid::text AS rid, last_updated, content FROM audit_event e
       WHERE rid > $1::bigint AND NOT EXISTS (SELECT 1 FROM audit_index_queue q WHERE q.rid = e.rid) ORDER BY rid LIMIT $2`,
      [after, batchSize],
    );
    if (!rows.length) return done;
    const sql = new Statement();
    const rids = sql.param(rows.map((row) => row.rid));
    const times = sql.param(rows.map((row) => row.last_updated.toISOString()));
    await db.query(
      sql.with(
        [
          `owner AS (SELECT u.ord, u.rid, '${AUDIT_EVENT}'::text AS resource_type, u.last_updated
             FROM unnest(${rids}::bigint[], ${times}::timestamptz[]) WITH ORDINALITY AS u(rid, last_updated, ord))`,
          ...AUDIT_INDEX_TABLES.map((table) => `unindex_${table} AS (DELETE FROM ${table} WHERE rid = ANY(${rids}::bigint[]))`),
          ...insertAuditIndexCtes(rows.map((row) => index(row.content)), 'owner', sql.param),
        ],
        'SELECT 1',
      ),
      sql.params,
    );
    done += rows.length;
    after = rows[rows.length - 1].rid;
    options.onBatch?.(before + done);
  }
}
