import type { Statement } from './statement.js';
import type { Cursor, SortKey } from '../query/model.js';
import { CLINICAL_TABLES, type TableSet } from './tables.js';

/** One ORDER BY key: its SQL expression over the row `r`, its type for casting cursor values back, its order. */
export interface OrderKey {
  expression: string;
  cast: 'text' | 'timestamptz' | 'numeric';
  descending: boolean;
  nullsLast: boolean;
}

/**
 * The value a resource sorts by for one key. A resource may have several values for a parameter: ascending
 * sorts use the lowest, descending the highest (for dates, the start or the end of their span).
 */
export function orderKey(key: SortKey, sql: Statement, resourceType: string, tables: TableSet = CLINICAL_TABLES): OrderKey {
  const { definition, descending } = key;
  const pick = descending ? 'max' : 'min';
  const scope = (table: string) => `FROM ${table} i WHERE i.rid = r.rid AND i.resource_type = ${resourceType} AND i.param = ${sql.param(definition.code)}`;
  const base = { descending, nullsLast: true };
  if (definition.code === '_id') return { ...base, expression: 'r.id', cast: 'text' };
  if (definition.code === '_lastUpdated') return { ...base, expression: 'r.last_updated', cast: 'timestamptz' };
  switch (definition.type) {
    case 'string':
      return { ...base, expression: `(SELECT ${pick}(i.normalized) ${scope(tables.index.string)})`, cast: 'text' };
    case 'token':
      return { ...base, expression: `(SELECT ${pick}(i.code) ${scope(tables.index.token)})`, cast: 'text' };
    case 'date':
      return { ...base, expression: `(SELECT ${pick}(i.${descending ? 'high' : 'low'}) ${scope(tables.index.date)})`, cast: 'timestamptz' };
    case 'number':
      return { ...base, expression: `(SELECT ${pick}(i.value) ${scope(tables.index.number)})`, cast: 'numeric' };
    case 'quantity':
      return { ...base, expression: `(SELECT ${pick}(i.value) ${scope(tables.index.quantity)})`, cast: 'numeric' };
    case 'reference':
      return {
        ...base,
        expression: `(SELECT ${pick}(coalesce(i.target_type || '/' || i.target_id, i.url)) ${scope(tables.index.reference)})`,
        cast: 'text',
      };
    case 'uri':
      return { ...base, expression: `(SELECT ${pick}(i.value) ${scope(tables.index.uri)})`, cast: 'text' };
    default:
      throw new Error(`cannot sort by ${definition.type} parameters`);
  }
}

/** The same ordering walked backwards (for `previous` pages): every direction and NULLS placement flipped. */
export function reversed(keys: OrderKey[]): OrderKey[] {
  return keys.map((k) => ({ ...k, descending: !k.descending, nullsLast: !k.nullsLast }));
}

export function orderBy(keys: OrderKey[], columns: string[], ridDescending: boolean): string {
  const parts = keys.map((k, i) => `${columns[i]} ${k.descending ? 'DESC' : 'ASC'} NULLS ${k.nullsLast ? 'LAST' : 'FIRST'}`);
  return [...parts, `rid ${ridDescending ? 'DESC' : 'ASC'}`].join(', ');
}

/**
 * Rows strictly after the cursor in the ordering: lexicographic over the keys, then rid. Written out key by
 * key, because directions and NULL placement may differ between keys.
 */
export function afterCursor(keys: OrderKey[], columns: string[], cursor: Cursor, ridDescending: boolean, sql: Statement): string {
  const values = cursor.keys ?? [];
  let condition = `rid ${ridDescending ? '<' : '>'} ${sql.param(cursor.rid)}::bigint`;
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i];
    const column = columns[i];
    const value = values[i] ?? null;
    const param = value === null ? undefined : `${sql.param(value)}::${key.cast}`;
    const greater =
      param === undefined
        ? key.nullsLast
          ? 'false'
          : `${column} IS NOT NULL`
        : `(${column} ${key.descending ? '<' : '>'} ${param}${key.nullsLast ? ` OR ${column} IS NULL` : ''})`;
    const equal = param === undefined ? `${column} IS NULL` : `${column} = ${param}`;
    condition = `(${greater} OR (${equal} AND ${condition}))`;
  }
  return condition;
}
