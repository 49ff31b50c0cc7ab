import type { AuditEvent } from 'fhir/r4';
import type { SearchQuery } from '../search/query/model.js';
import { compileSearch } from '../search/sql/compile.js';
import type { Database } from '../store/database.js';
import { type ChainReport, verifyChain } from './verify.js';

/** The most events a sample draws from (the permitted events of the period, before the random pick). */
const POPULATION_LIMIT = 10_000_000;

/** The audit trail's reads that are not FHIR searches: the chain walk and random samples. */
export class AuditLog {
  constructor(private readonly db: Database) {}

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
    const rows = await this.db.query<{ content: AuditEvent }>(
      `SELECT content FROM (${page.sql}) permitted ORDER BY random() LIMIT $${page.params.length + 1}`,
      [...page.params, size],
    );
    return rows.map((row) => row.content);
  }
}
