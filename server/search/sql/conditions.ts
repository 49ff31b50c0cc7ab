import type { Statement } from './statement.js';
import { indexKey } from '../index-key.js';
import { normalizeText } from '../index/normalize.js';
import { consentCondition } from './consent.js';
import type { ChainFilter, ConsentGate, Filter, HasFilter, ListFilter, ParsedValue, Prefix, ValueFilter } from '../query/model.js';
import { likeLiteral } from './like.js';
import { CLINICAL_TABLES, type TableSet, tablesFor } from './tables.js';


/** Where a condition is evaluated: the alias of the resource row, and an SQL expression for its type. */
export interface RowScope {
  row: string;
  type: string;
  /** Gives each nested subquery its own aliases. */
  alias: () => string;
  /** The consent rule rows reached by chains and `_has` must meet too, so a hidden row cannot be probed. */
  gate?: ConsentGate;
  /** The tables the row and its index rows are in (server/search/sql/tables.ts); the clinical ones if absent. */
  tables?: TableSet;
}

/**
 * The SQL condition one filter puts on a resource row: a semi-join into the parameter's index table, so the
 * database answers it from the index. Values of one filter are alternatives (OR). Chains and `_has` nest the
 * same conditions on the rows a reference leads to, or comes from.
 */
export function filterCondition(filter: Filter, sql: Statement, scope: RowScope): string {
  switch (filter.kind) {
    case 'chain':
      return chainCondition(filter, sql, scope);
    case 'has':
      return hasCondition(filter, sql, scope);
    case 'value':
      return valueFilterCondition(filter, sql, scope);
    case 'list':
      return listCondition(filter, sql, scope);
  }
}

/** Named by an entry of one of the Lists (List.entry.item, the List `item` parameter). */
function listCondition(filter: ListFilter, sql: Statement, { row, alias }: RowScope): string {
  const ref = alias();
  const list = alias();
  return `EXISTS (SELECT 1 FROM search_reference ${ref}
    JOIN resource ${list} ON ${list}.rid = ${ref}.rid
    WHERE ${ref}.target_type = ${row}.resource_type AND ${ref}.target_id = ${row}.id
      AND ${ref}.resource_type = 'List' AND ${ref}.param = 'item'
      AND ${list}.resource_type = 'List' AND ${list}.id = ANY(${sql.param(filter.listIds)}::text[]) AND NOT ${list}.deleted)`;
}

function valueFilterCondition(filter: ValueFilter, sql: Statement, { row, type, tables = CLINICAL_TABLES }: RowScope): string {
  const { definition, modifier } = filter;
  if (definition.code === '_id') return idCondition(filter, sql, row);
  if (definition.code === '_lastUpdated') return lastUpdatedCondition(filter, sql, row);

  if (definition.type === 'special') throw new Error(`no index table for ${definition.type} parameters`);
  const table = tables.index[definition.type];
  const scope = `i.rid = ${row}.rid AND i.resource_type = ${type} AND i.param = ${sql.param(definition.code)}`;
  const first = filter.values[0];
  if (first.type === 'missing') return `${first.missing ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${table} i WHERE ${scope})`;

  const alternatives = filter.values.map((value) => `(${valueCondition(value, modifier, sql)})`).join(' OR ');
  // :not is "no value matches", which includes having no value at all (R4 search, token :not).
  const negate = modifier === 'not';
  return `${negate ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${table} i WHERE ${scope} AND (${alternatives}))`;
}

/** The reference's target row (current, not deleted) must match the rest of the chain. */
function chainCondition(filter: ChainFilter, sql: Statement, { row, type, alias, gate, tables = CLINICAL_TABLES }: RowScope): string {
  const ref = alias();
  const target = alias();
  const targetType = filter.targetTypes.length === 1 ? sql.param(filter.targetTypes[0]) : `${target}.resource_type`;
  const targetTables = tablesFor(filter.targetTypes);
  const next = filterCondition(filter.next, sql, { row: target, type: targetType, alias, gate, tables: targetTables }) + gated(gate, sql, target, targetTables, filter.targetTypes);
  return `EXISTS (SELECT 1 FROM ${tables.index.reference} ${ref}
    JOIN ${targetTables.resource} ${target} ON ${target}.resource_type = ${ref}.target_type AND ${target}.id = ${ref}.target_id
    WHERE ${ref}.rid = ${row}.rid AND ${ref}.resource_type = ${type} AND ${ref}.param = ${sql.param(filter.definition.code)}
      AND ${ref}.target_type = ANY(${sql.param(filter.targetTypes)}::text[]) AND NOT ${target}.deleted AND ${next})`;
}

/** Some current resource of the source type refers to this row through the parameter, and matches the rest. */
function hasCondition(filter: HasFilter, sql: Statement, { row, alias, gate }: RowScope): string {
  const ref = alias();
  const source = alias();
  const sourceType = sql.param(filter.sourceType);
  const sourceTables = tablesFor(filter.sourceType);
  const next = filterCondition(filter.next, sql, { row: source, type: sourceType, alias, gate, tables: sourceTables }) + gated(gate, sql, source, sourceTables, [filter.sourceType]);
  return `EXISTS (SELECT 1 FROM ${sourceTables.index.reference} ${ref}
    JOIN ${sourceTables.resource} ${source} ON ${source}.rid = ${ref}.rid
    WHERE ${ref}.target_type = ${row}.resource_type AND ${ref}.target_id = ${row}.id
      AND ${ref}.resource_type = ${sourceType} AND ${ref}.param = ${sql.param(filter.definition.code)}
      AND NOT ${source}.deleted AND ${next})`;
}

/**
 * The consent condition on a row whose type is among `types` (a chain's targets, `_has`'s source). AuditEvents are
 * no consent-gated type: their rows pass, and their own tables are all the condition reads.
 */
function gated(gate: ConsentGate | undefined, sql: Statement, row: string, tables: TableSet, types: readonly string[]): string {
  return gate && tables === CLINICAL_TABLES ? ` AND ${consentCondition(gate, sql, row, types)}` : '';
}

/** The index columns a value is compared with: a table's own, or one component's columns in search_composite. */
interface Columns {
  system: string;
  code: string;
  text: string;
  ofType: string;
  value: string;
  low: string;
  high: string;
  unit: string;
  normalized: string;
  exact: string;
  url: string;
  targetType: string;
  targetId: string;
  targetVersion: string;
  identifierSystem: string;
  identifierValue: string;
}

const OWN: Columns = {
  system: 'i.system',
  code: 'i.code',
  text: 'i.text',
  ofType: 'i.of_type',
  value: 'i.value',
  low: 'i.low',
  high: 'i.high',
  unit: 'i.unit',
  normalized: 'i.normalized',
  exact: 'i.exact',
  url: 'i.url',
  targetType: 'i.target_type',
  targetId: 'i.target_id',
  targetVersion: 'i.target_version',
  identifierSystem: 'i.identifier_system',
  identifierValue: 'i.identifier_value',
};

function valueCondition(value: ParsedValue, modifier: string | undefined, sql: Statement, c: Columns = OWN): string {
  switch (value.type) {
    case 'string': {
      const text = indexKey(normalizeText(value.value));
      // :exact also states the normalized form, so that the index narrows the rows before the exact test.
      if (modifier === 'exact') return `${c.normalized} = ${sql.param(text)} AND ${c.exact} = ${sql.param(value.value)}`;
      if (modifier === 'contains') return `${c.normalized} LIKE ${sql.param(`%${likeLiteral(text)}%`)}`;
      return `${c.normalized} LIKE ${sql.param(`${likeLiteral(text)}%`)}`;
    }
    case 'token': {
      const { system, code, text, ofType } = value.value;
      if (text !== undefined) {
        const words = likeLiteral(normalizeText(text));
        return `${c.text} LIKE ${sql.param(`${words}%`)} OR ${c.text} LIKE ${sql.param(`% ${words}%`)}`;
      }
      if (ofType) {
        return `${c.ofType} = ${sql.param(`${ofType.system ?? ''}|${ofType.code ?? ''}`)} AND ${c.code} = ${sql.param(indexKey(ofType.value))}`;
      }
      const parts: string[] = [];
      if (system === '') parts.push(`${c.system} IS NULL`);
      else if (system !== undefined) parts.push(`${c.system} = ${sql.param(indexKey(system))}`);
      if (code !== undefined) parts.push(`${c.code} = ${sql.param(indexKey(code))}`);
      return parts.join(' AND ') || 'true';
    }
    case 'date':
      return rangeCondition(value.prefix, c.low, c.high, value.range, sql);
    case 'number':
      return numberCondition(value.prefix, value.value, value.range, sql, c.value);
    case 'quantity': {
      const parts = [numberCondition(value.prefix, value.value, value.range, sql, c.value)];
      if (value.system !== undefined) parts.push(`${c.system} = ${sql.param(value.system)}`);
      if (value.code !== undefined) {
        const code = sql.param(value.code);
        // Without a system the code may be the unit as written (R4 search, quantity).
        parts.push(value.system !== undefined ? `${c.code} = ${code}` : `(${c.code} = ${code} OR ${c.unit} = ${code})`);
      }
      return parts.join(' AND ');
    }
    case 'reference': {
      if (value.identifier) {
        const parts = [];
        if (value.identifier.system === '') parts.push(`${c.identifierSystem} IS NULL`);
        else if (value.identifier.system !== undefined) parts.push(`${c.identifierSystem} = ${sql.param(value.identifier.system)}`);
        if (value.identifier.value !== undefined) parts.push(`${c.identifierValue} = ${sql.param(indexKey(value.identifier.value))}`);
        return parts.join(' AND ') || 'false';
      }
      const local: string[] = [];
      if (value.id !== undefined) local.push(`${c.targetId} = ${sql.param(value.id)}`);
      if (value.targetType !== undefined) local.push(`${c.targetType} = ${sql.param(value.targetType)}`);
      if (modifier && /^[A-Z]/.test(modifier)) local.push(`${c.targetType} = ${sql.param(modifier)}`);
      if (value.version !== undefined && value.id !== undefined) local.push(`${c.targetVersion} = ${sql.param(value.version)}`);
      const byId = local.length ? local.join(' AND ') : undefined;
      const byUrl = value.url !== undefined ? `${c.url} = ${sql.param(indexKey(value.url))}` : undefined;
      return [byId, byUrl].filter(Boolean).map((x) => `(${x})`).join(' OR ') || 'false';
    }
    case 'uri': {
      const uri = indexKey(value.value);
      if (modifier === 'below') return `${c.value} LIKE ${sql.param(`${likeLiteral(uri)}%`)}`;
      if (modifier === 'above') return `starts_with(${sql.param(uri)}, ${c.value})`;
      return `${c.value} = ${sql.param(uri)}`;
    }
    case 'composite':
      return value.parts.map((part, index) => `(${componentCondition(part, index, sql)})`).join(' AND ');
    case 'missing':
      throw new Error(':missing is a filter of its own');
  }
}

/** One component of a composite value, against the columns of its position (see flattenComposite). */
function componentCondition(part: ParsedValue, index: number, sql: Statement): string {
  const none = 'NULL';
  if (index === 0) {
    if (part.type === 'reference') {
      const key = part.targetType && part.id ? `${part.targetType}/${part.id}` : part.url;
      return key === undefined ? 'false' : `i.c1_code = ${sql.param(indexKey(key))}`;
    }
    return valueCondition(part, undefined, sql, { ...OWN, system: 'i.c1_system', code: 'i.c1_code', text: none, ofType: none });
  }
  if (index === 1) {
    if (part.type === 'reference') {
      const key = part.targetType && part.id ? `${part.targetType}/${part.id}` : part.url;
      return key === undefined ? 'false' : `i.c2_code = ${sql.param(indexKey(key))}`;
    }
    return valueCondition(part, undefined, sql, {
      ...OWN,
      system: 'i.c2_system',
      code: 'i.c2_code',
      unit: 'i.c2_code',
      value: 'i.c2_value',
      low: part.type === 'date' ? 'i.c2_date_low' : 'i.c2_low',
      high: part.type === 'date' ? 'i.c2_date_high' : 'i.c2_high',
      normalized: 'i.c2_text',
      text: none,
      ofType: none,
    });
  }
  return valueCondition(part, undefined, sql, { ...OWN, value: 'i.c3_value', low: 'i.c3_low', high: 'i.c3_high' });
}

/**
 * Range comparisons of R4 search for a target range [low, high] against the search range [start, end]:
 * eq contains, gt/lt extend beyond, ge/le either, sa/eb lie wholly after/before, ap overlaps a widened range.
 * Bounds become parameters only when used: PostgreSQL cannot type a parameter the statement never mentions.
 */
function rangeCondition(prefix: Prefix, low: string, high: string, range: { start: Date; end: Date }, sql: Statement): string {
  const start = once(() => sql.param(range.start));
  const end = once(() => sql.param(range.end));
  const within = () => `${low} >= ${start()} AND ${high} <= ${end()}`;
  switch (prefix) {
    case 'eq':
      return within();
    case 'ne':
      return `NOT (${within()})`;
    case 'gt':
      return `${high} > ${end()}`;
    case 'lt':
      return `${low} < ${start()}`;
    case 'ge':
      return `${high} > ${end()} OR (${within()})`;
    case 'le':
      return `${low} < ${start()} OR (${within()})`;
    case 'sa':
      return `${low} > ${end()}`;
    case 'eb':
      return `${high} < ${start()}`;
    case 'ap': {
      // Within 10% of the distance between the value and now, and never less than the value's own span.
      const margin = Math.abs(Date.now() - range.start.getTime()) * 0.1;
      const from = sql.param(new Date(range.start.getTime() - margin));
      const to = sql.param(new Date(range.end.getTime() + margin));
      return `${low} <= ${to} AND ${high} >= ${from}`;
    }
  }
}

function once(make: () => string): () => string {
  let made: string | undefined;
  return () => (made ??= make());
}

/** Numbers compare the target's value with the search value's precision range (eq) or the value itself. */
function numberCondition(prefix: Prefix, value: string, range: { low: string; high: string }, sql: Statement, column: string): string {
  // Parameters are added only when used: PostgreSQL cannot type a parameter the statement never mentions.
  const v = () => `${sql.param(value)}::numeric`;
  const inRange = () => `${column} >= ${sql.param(range.low)}::numeric AND ${column} < ${sql.param(range.high)}::numeric`;
  switch (prefix) {
    case 'eq':
      return inRange();
    case 'ne':
      return `NOT (${inRange()})`;
    case 'gt':
    case 'sa':
      return `${column} > ${v()}`;
    case 'lt':
    case 'eb':
      return `${column} < ${v()}`;
    case 'ge':
      return `${column} >= ${v()}`;
    case 'le':
      return `${column} <= ${v()}`;
    case 'ap': {
      // Within 10% of the value (R4 search, approximately).
      const x = v();
      return `${column} BETWEEN ${x} - abs(${x}) * 0.1 AND ${x} + abs(${x}) * 0.1`;
    }
  }
}

function idCondition(filter: ValueFilter, sql: Statement, row: string): string {
  const first = filter.values[0];
  if (first.type === 'missing') return first.missing ? 'false' : 'true';
  const ids = filter.values.flatMap((v) => (v.type === 'token' && v.value.code !== undefined ? [v.value.code] : []));
  // One id is compared as a scalar: PostgreSQL's generic plan for `= ANY($n)` expects ten ids and so costs more than
  // a plan for the values, and a prepared statement would then be planned on every run (docs/SEARCH.md, "Planning").
  const condition = ids.length === 1 ? `${row}.id = ${sql.param(ids[0])}::text` : `${row}.id = ANY(${sql.param(ids)}::text[])`;
  return filter.modifier === 'not' ? `NOT (${condition})` : condition;
}

function lastUpdatedCondition(filter: ValueFilter, sql: Statement, row: string): string {
  const first = filter.values[0];
  if (first.type === 'missing') return first.missing ? 'false' : 'true';
  return filter.values
    .map((value) => {
      if (value.type !== 'date') throw new Error('_lastUpdated takes dates');
      const at = `${row}.last_updated`;
      return `(${rangeCondition(value.prefix, at, at, value.range, sql)})`;
    })
    .join(' OR ');
}
