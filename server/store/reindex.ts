import type { Resource } from 'fhir/r4';
import type { Database } from './database.js';
import { deleteIndexCtes, insertIndexCtes } from './search-index-sql.js';
import type { Indexer } from './sql-resource-store.js';
import { Statement } from './statement.js';

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
