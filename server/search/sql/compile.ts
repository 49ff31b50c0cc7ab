import { Statement } from './statement.js';
import type { Filter, SearchQuery } from '../query/model.js';
import { accessConditions, type CompartmentScope, compartmentCondition } from './access.js';
import { filterCondition } from './conditions.js';
import { consentCondition } from './consent.js';
import { afterCursor, orderBy, orderKey, reversed } from './sort.js';
import { CLINICAL_TABLES, type TableSet, tablesFor } from './tables.js';

export interface CompiledSearch {
  /** The page: `rid` and `content` of up to count + 1 rows (one more tells whether another page exists). */
  page: { sql: string; params: unknown[] };
  /** How many match in all (no cursor, no limit). */
  count: { sql: string; params: unknown[] };
  /**
   * The best plan does not depend on the values: rows of one type by id (what a read, update or delete by id asks
   * under a restricted grant or consent), found through the primary key whatever the ids, every other condition
   * checked on those few rows. Such statements may be prepared and planned once (Database.query's `prepared`);
   * any other search is planned for its values (server/store/search.ts).
   */
  planStable: boolean;
}

/**
 * A search as SQL over `resource` and the index tables. Paging is keyset on `rid` (the resource's stable
 * surrogate key), so a page deep in a long result costs what the first does, and a resource updated while a
 * client pages keeps its place.
 */
export function compileSearch(query: SearchQuery): CompiledSearch {
  return { page: pageStatement(query), count: countStatement(query), planStable: byIdOnly(query) };
}

function byIdOnly(query: SearchQuery): boolean {
  const byId = (filter: Filter) =>
    filter.kind === 'value' && filter.definition.code === '_id' && filter.modifier === undefined && filter.values[0]?.type !== 'missing';
  return query.resourceTypes.length === 1 && !query.sort.length && query.filters.length > 0 && query.filters.every(byId);
}

/**
 * What a row must meet, as a search states it: `SearchQuery`'s conditions, plus what a Bulk Data export adds
 * (server/search/sql/export.ts): `anyOf`, alternatives of filters (a type's several `_typeFilter` queries; a row
 * meets every filter of at least one), and a compartment of many patients.
 */
export interface RowConditions extends Pick<SearchQuery, 'resourceTypes' | 'filters' | 'access' | 'consent'> {
  anyOf?: Filter[][];
  compartment?: CompartmentScope;
}

/**
 * The conditions every row must meet, the SQL expression of the row's type for index lookups, and the tables the
 * rows are in (`tablesFor`: AuditEvents have their own, so neither kind of search reads the other's). `live` is
 * what keeps a row: current and not deleted for a search; an export as of a moment also keeps rows deleted since.
 * Search and export build their statements on this one function, so a condition means the same in both.
 * `typeAsArray`: the type compared as a one-element array even when single, so the planner does not take the type
 * for a constant (server/search/sql/export.ts says why an export's keyset needs that).
 */
export function where(
  query: RowConditions,
  sql: Statement,
  live = 'NOT r.deleted',
  options: { typeAsArray?: boolean } = {},
): { conditions: string[]; type: string; tables: TableSet } {
  const tables = tablesFor(query.resourceTypes);
  const single = query.resourceTypes.length === 1;
  const type = single ? sql.param(query.resourceTypes[0]) : 'r.resource_type';
  const alias = aliases();
  const scope = { row: 'r', type, alias, gate: query.consent, tables };
  const all = (filters: Filter[]) => filters.map((filter) => filterCondition(filter, sql, scope));
  const anyOf = query.anyOf?.length ? [`(${query.anyOf.map((filters) => `(${[...all(filters), 'true'].join(' AND ')})`).join(' OR ')})`] : [];
  const conditions = [
    single ? (options.typeAsArray ? `r.resource_type = ANY(ARRAY[${type}::text])` : `r.resource_type = ${type}`) : `r.resource_type = ANY(${sql.param(query.resourceTypes)}::text[])`,
    live,
    ...all(query.filters),
    ...anyOf,
    ...(query.compartment ? [compartmentCondition(query.compartment, sql, 'r', tables)] : []),
    ...accessConditions(query.access, sql, 'r', tables),
    // AuditEvent is no consent-gated type: the condition would pass every row, reading the clinical tables to say so.
    ...(query.consent && tables === CLINICAL_TABLES ? [consentCondition(query.consent, sql, 'r', query.resourceTypes)] : []),
  ];
  return { conditions, type, tables };
}

function pageStatement(query: SearchQuery): { sql: string; params: unknown[] } {
  if (query.sort.length) return sortedPageStatement(query);
  const sql = new Statement();
  const { conditions, tables } = where(query, sql);
  const backwards = query.cursor?.direction === 'previous';
  if (query.cursor) conditions.push(`r.rid ${backwards ? '<' : '>'} ${sql.param(query.cursor.rid)}::bigint`);
  const text = `SELECT r.rid::text AS rid, r.content FROM ${tables.resource} r
    WHERE ${conditions.join('\n      AND ')}
    ORDER BY r.rid ${backwards ? 'DESC' : 'ASC'}
    LIMIT ${sql.param(query.count + 1)}`;
  return { sql: text, params: sql.params };
}

/**
 * A sorted page: the sort values are computed per matching row in a subquery, and the keyset continues from the
 * cursor's values. The ordering always ends with rid, so it is total and pages never overlap.
 */
function sortedPageStatement(query: SearchQuery): { sql: string; params: unknown[] } {
  const sql = new Statement();
  const { conditions, type, tables } = where(query, sql);
  const forward = query.sort.map((key) => orderKey(key, sql, type, tables));
  const backwards = query.cursor?.direction === 'previous';
  const keys = backwards ? reversed(forward) : forward;
  const columns = keys.map((_, i) => `k${i}`);
  const cursor = query.cursor ? `WHERE ${afterCursor(keys, columns, query.cursor, backwards, sql)}` : '';
  const text = `SELECT rid::text AS rid, content, ${columns.map((c) => `${c}::text AS ${c}`).join(', ')} FROM (
      SELECT r.rid, r.content, ${forward.map((k, i) => `${k.expression} AS ${columns[i]}`).join(', ')}
      FROM ${tables.resource} r WHERE ${conditions.join('\n        AND ')}
    ) q
    ${cursor}
    ORDER BY ${orderBy(keys, columns, backwards)}
    LIMIT ${sql.param(query.count + 1)}`;
  return { sql: text, params: sql.params };
}

function countStatement(query: SearchQuery): { sql: string; params: unknown[] } {
  const sql = new Statement();
  const { conditions, tables } = where(query, sql);
  const text = `SELECT count(*)::int AS total FROM ${tables.resource} r WHERE ${conditions.join('\n      AND ')}`;
  return { sql: text, params: sql.params };
}

/** Fresh table aliases for nested subqueries: r1, r2, … */
function aliases(): () => string {
  let n = 0;
  return () => `r${++n}`;
}
