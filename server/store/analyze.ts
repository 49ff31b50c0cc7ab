import type { Database } from './database.js';
import { INDEX_TABLES } from './search-index-sql.js';

/**
 * Refreshes the planner's statistics of the resource and search index tables. After a bulk load the planner
 * would otherwise plan from the statistics of nearly empty tables (13 ms instead of 0.2 ms for a CarePlan search by
 * patient and status on the Synthea data), and a PostgreSQL whose autovacuum is off never refreshes them itself.
 */
export async function analyzeTables(db: Database): Promise<void> {
  await db.exec(`ANALYZE resource, resource_version, ${INDEX_TABLES.join(', ')}`);
}
