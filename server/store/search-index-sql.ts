import { indexKeyOrNull } from '../search/index-key.js';
import type { CompositeComponent, CompositeRow, IndexRows } from '../search/types.js';
import { AUDIT_TABLES } from '../search/sql/tables.js';

/** The index tables and, for each, the columns an index row fills (after `rid, resource_type, param`). */
const TABLES = {
  string: { table: 'search_string', columns: { normalized: 'text', exact: 'text' } },
  token: { table: 'search_token', columns: { system: 'text', code: 'text', text: 'text', ofType: 'text' } },
  date: { table: 'search_date', columns: { low: 'timestamptz', high: 'timestamptz' } },
  number: { table: 'search_number', columns: { value: 'numeric', low: 'numeric', high: 'numeric' } },
  quantity: {
    table: 'search_quantity',
    columns: { value: 'numeric', low: 'numeric', high: 'numeric', system: 'text', code: 'text', unit: 'text' },
  },
  reference: {
    table: 'search_reference',
    columns: {
      targetType: 'text',
      targetId: 'text',
      targetVersion: 'text',
      url: 'text',
      identifierSystem: 'text',
      identifierValue: 'text',
    },
  },
  uri: { table: 'search_uri', columns: { value: 'text' } },
  composite: {
    table: 'search_composite',
    columns: {
      c1System: 'text',
      c1Code: 'text',
      c2System: 'text',
      c2Code: 'text',
      c2Value: 'numeric',
      c2Low: 'numeric',
      c2High: 'numeric',
      c2Text: 'text',
      c2DateLow: 'timestamptz',
      c2DateHigh: 'timestamptz',
      c3Value: 'numeric',
      c3Low: 'numeric',
      c3High: 'numeric',
    },
  },
  // Not a search parameter's: what the resource refers to, for referential integrity (server/integrity).
  link: { table: 'resource_link', columns: { targetType: 'text', targetId: 'text' } },
} as const;

type IndexedKind = keyof typeof TABLES;

export const INDEX_TABLES: readonly string[] = Object.values(TABLES).map((t) => t.table);

/** The audit trail's index tables (migration 007): the same rows, plus the event's `last_updated` (their partition key). */
export const AUDIT_INDEX_TABLES: readonly string[] = Object.values(AUDIT_TABLES.index);

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The columns a btree index covers as text: their values are cut to the index's byte budget (search/index-key). */
const KEYED = new Set([
  'string.normalized',
  'token.system',
  'token.code',
  'uri.value',
  'reference.url',
  'reference.identifierValue',
  'composite.c1System',
  'composite.c1Code',
]);

/** Open date bounds are stored as infinities, so range tests never meet NULL. */
const DATE_DEFAULTS: Record<string, string> = { low: '-infinity', high: 'infinity' };

/** Where the rid of the indexed resource comes from: an expression, and the relation that provides it, if any. */
export interface RidSource {
  rid: string;
  from?: string;
}

/**
 * Common table expressions that insert a resource's index rows, one per table that has rows, each one
 * `INSERT … SELECT <rid>, <type>, unnest(arrays)`: a resource's whole index is written in the same statement
 * as the resource itself, whatever its size. `param` adds a query parameter and returns its placeholder.
 */
export function insertIndexCtes(rows: IndexRows, source: RidSource, resourceType: string, param: (value: unknown) => string): string[] {
  return (Object.keys(TABLES) as IndexedKind[]).flatMap((kind) => {
    const list = rowsOf(rows, kind);
    if (!list.length) return [];
    const { table, names, arrays } = columnArrays(kind, list, param);
    return [
      `index_${kind} AS (INSERT INTO ${table} (rid, resource_type, param, ${names.map(snake).join(', ')})
        SELECT ${source.rid}, ${param(resourceType)}, u.* FROM ${source.from ? `${source.from}, ` : ''}unnest(${arrays.join(', ')}) AS u)`,
    ];
  });
}

/**
 * The same for several resources written by one statement: each index row carries its resource's position
 * (1-based) in `resources`, and `owners` names a relation of `(ord, rid, resource_type)` that maps a position to
 * the stored row.
 */
export function insertIndexCtesOfMany(resources: readonly IndexRows[], owners: string, param: (value: unknown) => string): string[] {
  return manyRows(resources, owners, param, false);
}

/**
 * The same into the audit tables, for AuditEvents: `owners` also has each event's `last_updated`, which its index
 * rows carry so that they fall into the event's partition. Records hold no links (server/search/index/exemptions.ts).
 */
export function insertAuditIndexCtes(resources: readonly IndexRows[], owners: string, param: (value: unknown) => string): string[] {
  return manyRows(resources, owners, param, true);
}

function manyRows(resources: readonly IndexRows[], owners: string, param: (value: unknown) => string, audit: boolean): string[] {
  return (Object.keys(TABLES) as IndexedKind[]).flatMap((kind) => {
    if (audit && kind === 'link') return [];
    const positions: number[] = [];
    const list = resources.flatMap((rows, i) => {
      const own = rowsOf(rows, kind);
      for (let n = 0; n < own.length; n++) positions.push(i + 1);
      return own;
    });
    if (!list.length) return [];
    const { table, names, arrays } = columnArrays(kind, list, param);
    const columns = names.map(snake);
    const into = audit ? AUDIT_TABLES.index[kind as Exclude<IndexedKind, 'link'>] : table;
    return [
      `index_${kind} AS (INSERT INTO ${into} (rid, resource_type, param, ${columns.join(', ')}${audit ? ', last_updated' : ''})
        SELECT o.rid, o.resource_type, u.param, ${columns.map((c) => `u.${c}`).join(', ')}${audit ? ', o.last_updated' : ''}
        FROM unnest(${param(positions)}::int[], ${arrays.join(', ')}) AS u(ord, param, ${columns.join(', ')})
        JOIN ${owners} o ON o.ord = u.ord)`,
    ];
  });
}

function rowsOf(rows: IndexRows, kind: IndexedKind): Record<string, unknown>[] {
  return (kind === 'composite' ? rows.composite.map(flattenComposite) : rows[kind]) as unknown as Record<string, unknown>[];
}

/** One typed array parameter per column of a kind's table, `param` first: what `unnest` turns back into rows. */
function columnArrays(kind: IndexedKind, list: Record<string, unknown>[], param: (value: unknown) => string) {
  const { table, columns } = TABLES[kind];
  const names = Object.keys(columns) as (keyof typeof columns)[];
  const arrays = [
    `${param(list.map((row) => row.param))}::text[]`,
    ...names.map((name) => `${param(list.map((row) => storedValue(kind, name, row)))}::${columns[name]}[]`),
  ];
  return { table, names: names as string[], arrays };
}

/** A column's value as its table stores it: open dates as infinities, btree-indexed text cut to the key budget. */
function storedValue(kind: IndexedKind, name: string, row: Record<string, unknown>): unknown {
  const value = row[name] ?? (kind === 'date' ? DATE_DEFAULTS[name] : null);
  return KEYED.has(`${kind}.${name}`) ? indexKeyOrNull(value as string | null) : value;
}

/** The audit index kinds: every kind but the links, which records do not have (server/integrity/exemptions.ts). */
const AUDIT_KINDS = (Object.keys(TABLES) as IndexedKind[]).filter((kind): kind is Exclude<IndexedKind, 'link'> => kind !== 'link');

/**
 * An AuditEvent's index rows as one JSON document, `{ kind: [{ param, column: value, … }] }` with the columns of
 * the kind's table and the values it stores: what `audit_index_queue.rows` holds until the rows are moved into the
 * audit index tables (server/store/audit-index-queue.ts).
 */
export function queuedAuditIndexRows(rows: IndexRows): string {
  const queued: Record<string, Record<string, unknown>[]> = {};
  for (const kind of AUDIT_KINDS) {
    const list = rowsOf(rows, kind);
    if (!list.length) continue;
    const columns = AUDIT_COLUMNS[kind];
    queued[kind] = list.map((row) => {
      const stored: Record<string, unknown> = { param: row.param };
      for (const [name, column] of columns) stored[column] = storedValue(kind, name, row);
      return stored;
    });
  }
  return JSON.stringify(queued);
}

/** Each audit kind's columns: the row's field name and the table's column name (read on every event). */
const AUDIT_COLUMNS = Object.fromEntries(
  AUDIT_KINDS.map((kind) => [kind, Object.keys(TABLES[kind].columns).map((name) => [name, snake(name)] as const)]),
) as Record<(typeof AUDIT_KINDS)[number], (readonly [string, string])[]>;

/**
 * Common table expressions that write the queued index rows of the relation `taken` (`rid`, `last_updated`, `rows`
 * as `queuedAuditIndexRows` made them) into the audit index tables, each row in its event's partition.
 */
export function insertQueuedAuditIndexCtes(taken: string): string[] {
  return AUDIT_KINDS.map((kind) => {
    const columns = Object.entries(TABLES[kind].columns).map(([name, type]) => [snake(name), type] as const);
    const names = ['param', ...columns.map(([name]) => name)];
    const definitions = [['param', 'text'] as const, ...columns].map(([name, type]) => `"${name}" ${type}`).join(', ');
    return `queued_${kind} AS (INSERT INTO ${AUDIT_TABLES.index[kind]} (rid, resource_type, ${names.join(', ')}, last_updated)
        SELECT t.rid, 'AuditEvent', ${names.map((name) => `r."${name}"`).join(', ')}, t.last_updated
        FROM ${taken} t, jsonb_to_recordset(t.rows -> '${kind}') AS r(${definitions}))`;
  });
}

/** Common table expressions that remove every index row of a resource (before re-indexing, or on delete). */
export function deleteIndexCtes(rid: string): string[] {
  return INDEX_TABLES.map((table) => `unindex_${table} AS (DELETE FROM ${table} WHERE rid = ${rid})`);
}

/**
 * A composite row as columns by component position: the first component (a token, or a reference as
 * `Type/id`) in c1_*, the second in the c2_* columns of its kind, a third (always a number) in c3_*.
 */
export function flattenComposite(row: CompositeRow): Record<string, unknown> {
  const [first, second, third] = row.components;
  const flat: Record<string, unknown> = { param: row.param };
  if (first?.type === 'token') Object.assign(flat, { c1System: first.system, c1Code: first.code });
  else if (first?.type === 'reference') Object.assign(flat, { c1Code: referenceKey(first) });
  if (second) Object.assign(flat, secondColumns(second));
  if (third?.type === 'number' || third?.type === 'quantity') Object.assign(flat, { c3Value: third.value, c3Low: third.low, c3High: third.high });
  return flat;
}

function secondColumns(component: CompositeComponent): Record<string, unknown> {
  switch (component.type) {
    case 'token':
      return { c2System: component.system, c2Code: component.code };
    case 'quantity':
      return { c2System: component.system, c2Code: component.code ?? component.unit, c2Value: component.value, c2Low: component.low, c2High: component.high };
    case 'number':
      return { c2Value: component.value, c2Low: component.low, c2High: component.high };
    case 'string':
      return { c2Text: component.normalized };
    case 'date':
      return { c2DateLow: component.low ?? '-infinity', c2DateHigh: component.high ?? 'infinity' };
    case 'reference':
      return { c2Code: referenceKey(component) };
    case 'uri':
      return { c2Code: component.value };
  }
}

/** A reference as one comparable text: `Type/id` when it has one, else its URL. */
export function referenceKey(reference: { targetType: string | null; targetId: string | null; url: string | null }): string | null {
  return reference.targetType && reference.targetId ? `${reference.targetType}/${reference.targetId}` : reference.url;
}
