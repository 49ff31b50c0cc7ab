import { indexKeyOrNull } from '../search/index-key.js';
import type { IndexRows } from '../search/types.js';

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
} as const;

type IndexedKind = keyof typeof TABLES;

export const INDEX_TABLES: readonly string[] = Object.values(TABLES).map((t) => t.table);

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The columns a btree index covers as text: their values are cut to the index's byte budget (search/index-key). */
const KEYED = new Set(['string.normalized', 'token.system', 'token.code', 'uri.value', 'reference.url', 'reference.identifierValue']);

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
  const ctes: string[] = [];
  for (const kind of Object.keys(TABLES) as IndexedKind[]) {
    const list = rows[kind] as unknown as Record<string, unknown>[];
    if (!list.length) continue;
    const { table, columns } = TABLES[kind];
    const names = Object.keys(columns) as (keyof typeof columns)[];
    const arrays = [
      `${param(list.map((row) => row.param))}::text[]`,
      ...names.map((name) => {
        const keyed = KEYED.has(`${kind}.${name}`);
        const values = list.map((row) => {
          const value = row[name] ?? (kind === 'date' ? DATE_DEFAULTS[name] : null);
          return keyed ? indexKeyOrNull(value as string | null) : value;
        });
        return `${param(values)}::${columns[name]}[]`;
      }),
    ];
    ctes.push(
      `index_${kind} AS (INSERT INTO ${table} (rid, resource_type, param, ${names.map(snake).join(', ')})
        SELECT ${source.rid}, ${param(resourceType)}, u.* FROM ${source.from ? `${source.from}, ` : ''}unnest(${arrays.join(', ')}) AS u)`,
    );
  }
  return ctes;
}

/** Common table expressions that remove every index row of a resource (before re-indexing, or on delete). */
export function deleteIndexCtes(rid: string): string[] {
  return INDEX_TABLES.map((table) => `unindex_${table} AS (DELETE FROM ${table} WHERE rid = ${rid})`);
}
