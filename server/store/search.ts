import type { Resource } from 'fhir/r4';
import type { SearchQuery } from '../search/query/model.js';
import { compileSearch } from '../search/sql/compile.js';
import { includeStatement, type Row } from '../search/sql/include.js';
import { readsAuditIndex } from '../search/sql/tables.js';
import { moveQueuedAuditIndex } from './audit-index-queue.js';
import type { Database, QueryOptions } from './database.js';
import { keysetPage } from './keyset-page.js';
import type { SearchPage } from './resource-store.js';

/** What a search runs its statements through. */
export type Queries = Pick<Database, 'query'>;

// Searches are not prepared statements: after five runs PostgreSQL may settle on a generic plan, blind to the
// values, and for `CarePlan?patient=…&status=active` that plan starts from every active plan (2.4-7.5 ms at 10k
// resources, growing with the data) where a plan for the values starts from the patient (0.05-0.09 ms). The
// planning each search pays (~0.4 ms) is the price of plans that stay right as the data grows. The exception is a
// search by id alone (CompiledSearch.planStable), whose plan starts from the primary key whatever the values.

/**
 * Runs a search: the page (keyset on rid) and, as asked, the total: counted, or the planner's estimate. A first page
 * that holds every match is its own count, so the count statement runs only when there are more pages (or none
 * were asked for): most searches are then one statement, planned once.
 */
export async function querySearch(database: Database, query: SearchQuery): Promise<SearchPage> {
  const db = auditIndexMovedFirst(database);
  const compiled = compileSearch(query);
  const prepared = { prepared: compiled.planStable };
  if (query.count === 0) return { resources: [], included: [], total: await totalOf(db, query, compiled.count, prepared) };

  const rows = await db.query<{ rid: string; content: Resource } & Record<string, unknown>>(compiled.page.sql, compiled.page.params, prepared);
  const { page, hasNext, hasPrevious } = keysetPage(rows, query.count, query.cursor?.direction);
  const whole = !query.cursor && !hasNext;
  const total = whole && query.total === 'accurate' ? page.length : await totalOf(db, query, compiled.count, prepared);
  // In a sorted search a cursor carries the row's sort values (columns k0, k1, …) along with its rid.
  const keysOf = (row: Record<string, unknown>) =>
    query.sort.length ? query.sort.map((_, i) => (row[`k${i}`] ?? null) as string | null) : undefined;
  const first = page[0];
  const last = page[page.length - 1];
  return {
    resources: page.map((row) => row.content),
    included: await includedBy(db, query, page.map((row) => ({ rid: row.rid, resourceType: row.content.resourceType, id: row.content.id! }))),
    total,
    next: hasNext ? { direction: 'next', rid: last.rid, keys: keysOf(last) } : undefined,
    previous: hasPrevious ? { direction: 'previous', rid: first.rid, keys: keysOf(first) } : undefined,
  };
}

async function totalOf(db: Queries, query: SearchQuery, count: { sql: string; params: unknown[] }, options: QueryOptions): Promise<number | undefined> {
  if (query.total === 'none') return undefined;
  if (query.total === 'estimate') {
    const plan = await db.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] | string }>(`EXPLAIN (FORMAT JSON) ${count.sql}`, count.params);
    const json = plan[0]['QUERY PLAN'];
    const parsed = typeof json === 'string' ? (JSON.parse(json) as [{ Plan: { Plans?: [{ 'Plan Rows': number }] } }]) : json;
    // The count's plan is an aggregate over the row source whose estimate we want.
    const top = parsed[0].Plan as { 'Plan Rows': number; Plans?: { 'Plan Rows': number }[] };
    return Math.round(top.Plans?.[0]?.['Plan Rows'] ?? top['Plan Rows']);
  }
  const [row] = await db.query<{ total: number }>(count.sql, count.params, options);
  return row.total;
}

/** Includes stop after this many rounds of :iterate, so a cycle of references cannot run away. */
const MAX_ITERATIONS = 5;

/**
 * `_include` and `_revinclude` for one page: first on the matches, then, for the `:iterate` ones, on what the
 * previous round brought in, until nothing new comes. Matches and earlier includes are never repeated.
 */
async function includedBy(db: Queries, query: SearchQuery, matches: Row[]): Promise<Resource[]> {
  if (!matches.length || (!query.include.length && !query.revinclude.length)) return [];
  const seen = new Set(matches.map((m) => m.rid));
  const included: Resource[] = [];
  let frontier = matches;
  for (let round = 0; round < MAX_ITERATIONS && frontier.length; round++) {
    const fresh: Row[] = [];
    const specs = [
      ...query.include.filter((i) => round === 0 || i.iterate).map((include) => ({ include, reverse: false })),
      ...query.revinclude.filter((i) => round === 0 || i.iterate).map((include) => ({ include, reverse: true })),
    ];
    for (const { include, reverse } of specs) {
      const statement = includeStatement(include, frontier, reverse, query.includeAccess, query.consent);
      const rows = await db.query<{ rid: string; resource_type: string; id: string; content: Resource }>(statement.sql, statement.params);
      for (const row of rows) {
        if (seen.has(row.rid)) continue;
        seen.add(row.rid);
        included.push(row.content);
        fresh.push({ rid: row.rid, resourceType: row.resource_type, id: row.id });
      }
    }
    frontier = fresh;
  }
  return included;
}

/**
 * `db` for one search (or `$sample`'s draw), whose first statement that reads the audit trail's index tables is preceded by moving their
 * queue (server/store/audit-index-queue.ts): the search then finds every AuditEvent committed before it began.
 * A clinical search, which never names those tables, pays nothing.
 */
export function auditIndexMovedFirst(db: Database): Queries {
  let moved: Promise<number> | undefined;
  return {
    async query(sql, params, options) {
      if (readsAuditIndex(sql)) await (moved ??= moveQueuedAuditIndex(db));
      return db.query(sql, params, options);
    },
  };
}
