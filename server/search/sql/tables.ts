import type { SearchParamType } from '../../fhir/r4/search-parameter.js';

/** The index table kinds: one table per search parameter type that has values. */
export type IndexKind = Exclude<SearchParamType, 'special'>;

/**
 * Where rows of a resource type live: its current rows (`rid`, `resource_type`, `id`, `last_updated`, `deleted`,
 * `content`) and its search index, one table per parameter type, all with the same columns whichever the set.
 */
export interface TableSet {
  resource: string;
  index: Record<IndexKind, string>;
}

export const CLINICAL_TABLES: TableSet = {
  resource: 'resource',
  index: {
    string: 'search_string',
    token: 'search_token',
    date: 'search_date',
    number: 'search_number',
    quantity: 'search_quantity',
    reference: 'search_reference',
    uri: 'search_uri',
    composite: 'search_composite',
  },
};

/** The audit trail's own tables (migration 007): AuditEvents never share the clinical tables. */
export const AUDIT_TABLES: TableSet = {
  resource: 'audit_event',
  index: {
    string: 'audit_string',
    token: 'audit_token',
    date: 'audit_date',
    number: 'audit_number',
    quantity: 'audit_quantity',
    reference: 'audit_reference',
    uri: 'audit_uri',
    composite: 'audit_composite',
  },
};

const AUDIT_EVENT = 'AuditEvent';

/**
 * The one place that decides which tables hold rows of `types`: the audit tables when they are AuditEvents only,
 * else the clinical ones. A search is over one set: AuditEvents alone (`AuditEvent?…`, `_type=AuditEvent`), or
 * clinical types alone (searches of several types leave AuditEvent out; the search interaction refuses a mix).
 */
export function tablesFor(types: string | readonly string[]): TableSet {
  const list = typeof types === 'string' ? [types] : types;
  return list.length > 0 && list.every((type) => type === AUDIT_EVENT) ? AUDIT_TABLES : CLINICAL_TABLES;
}

const AUDIT_INDEX_NAMES = new RegExp(`\\b(${Object.values(AUDIT_TABLES.index).join('|')})\\b`);

/**
 * Whether a statement reads the audit trail's index tables: their rows wait in a queue for a moment after an event
 * is stored (migration 011), and such a statement must run after the queue is moved (server/store/search.ts).
 * Every statement that names them builds the names from AUDIT_TABLES, so finding the names finds them all.
 */
export function readsAuditIndex(sql: string): boolean {
  return AUDIT_INDEX_NAMES.test(sql);
}
