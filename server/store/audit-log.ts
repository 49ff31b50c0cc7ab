import type { AuditEvent } from 'fhir/r4';
import type { SearchQuery } from '../search/query/model.js';
import { compileSearch } from '../search/sql/compile.js';
import { auditIndexMovedFirst } from './search.js';
import type { Database } from './database.js';
import type { ResourceStore } from './resource-store.js';
import { GroupCommit } from './audit-group-commit.js';
import { type ChainReport, verifyChain } from './audit-verify.js';

/** The most events a sample draws from (the permitted events of the period, before the random pick). */
const POPULATION_LIMIT = 10_000_000;

/** The audit trail's own access: group-committed records of reads, the chain walk, random samples. */
export class AuditLog {
  private readonly reads: GroupCommit;

  constructor(
    private readonly db: Database,
    store: ResourceStore,
  ) {
    this.reads = new GroupCommit(store);
  }

  /** Stores the event of a read (or of a failure), resolving once it is committed (server/store/audit-group-commit.ts). */
  record(event: AuditEvent): Promise<void> {
    return this.reads.record(event);
  }

  verify(): Promise<ChainReport> {
    return verifyChain(this.db);
  }

  /**
   * `size` events drawn at random from those a search matches. The search carries the caller's restrictions
   * (compiled into its SQL like any search's), so the draw is from the permitted events only: nothing is
   * filtered afterwards.
   */
  async sample(query: SearchQuery, size: number): Promise<AuditEvent[]> {
    const { page } = compileSearch({ ...query, sort: [], cursor: undefined, count: POPULATION_LIMIT });
    // The draw is from every event committed before it, queued index rows included (migration 011).
    const rows = await auditIndexMovedFirst(this.db).query<{ content: AuditEvent }>(
      `SELECT content FROM (${page.sql}) permitted ORDER BY random() LIMIT $${page.params.length + 1}`,
      [...page.params, size],
    );
    return rows.map((row) => row.content);
  }
}
