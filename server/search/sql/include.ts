import { RESOURCE_TYPES } from '../../fhir/resource-types.js';
import { Statement } from './statement.js';
import type { Include, SearchQuery } from '../query/model.js';
import { accessConditions } from './access.js';
import { consentCondition } from './consent.js';
import { CLINICAL_TABLES, type TableSet, tablesFor } from './tables.js';

/** A resource already in the Bundle, known by its row and its identity. */
export interface Row {
  rid: string;
  resourceType: string;
  id: string;
}

/**
 * The resources that `include` brings in for `rows`: those their reference parameters point to (`_include`),
 * or those that point at them (`_revinclude`), current and not deleted. Answered from the reference index.
 */
export function includeStatement(
  include: Include,
  rows: Row[],
  reverse: boolean,
  reach?: SearchQuery['includeAccess'],
  consent?: SearchQuery['consent'],
): { sql: string; params: unknown[] } {
  const sql = new Statement();
  // The reference rows are the source type's; the rows brought in are the target's (forward) or the source's.
  const sourceTables = tablesFor(include.sourceType);
  const targetTables = reverse ? sourceTables : tablesFor(include.targetType ?? []);
  const conditions = [`i.resource_type = ${sql.param(include.sourceType)}`];
  if (include.param) conditions.push(`i.param = ${sql.param(include.param)}`);
  if (include.targetType) conditions.push(`i.target_type = ${sql.param(include.targetType)}`);
  // The included row's (`t`) type, where the include names it: the source type (reverse), the target type (forward).
  const rowType = reverse ? include.sourceType : include.targetType;
  if (reach) conditions.push(...reachConditions(reach, rowType, sql, targetTables));
  if (consent && targetTables === CLINICAL_TABLES) conditions.push(consentCondition(consent, sql, 't', rowType !== undefined ? [rowType] : reach?.types));
  const select = `SELECT DISTINCT t.rid::text AS rid, t.resource_type, t.id, t.content`;
  if (!reverse) {
    const sources = rows.filter((r) => r.resourceType === include.sourceType).map((r) => r.rid);
    return {
      sql: `${select} FROM ${sourceTables.index.reference} i
        JOIN ${targetTables.resource} t ON t.resource_type = i.target_type AND t.id = i.target_id
        WHERE i.rid = ANY(${sql.param(sources)}::bigint[]) AND ${conditions.join(' AND ')} AND NOT t.deleted`,
      params: sql.params,
    };
  }
  const types = sql.param(rows.map((r) => r.resourceType));
  const ids = sql.param(rows.map((r) => r.id));
  return {
    sql: `${select} FROM ${sourceTables.index.reference} i
      JOIN unnest(${types}::text[], ${ids}::text[]) AS p(type, id) ON i.target_type = p.type AND i.target_id = p.id
      JOIN ${targetTables.resource} t ON t.rid = i.rid
      WHERE ${conditions.join(' AND ')} AND NOT t.deleted`,
    params: sql.params,
  };
}

/**
 * What the caller may not see is not brought in. Only what restricts is planned: of one known type, that type's
 * restrictions; of any type, the list of readable types unless it is every type (planning that list cost more
 * than the include itself).
 */
function reachConditions(reach: NonNullable<SearchQuery['includeAccess']>, type: string | undefined, sql: Statement, tables: TableSet): string[] {
  if (type === undefined) {
    const everyType = RESOURCE_TYPES.every((readable) => reach.types.includes(readable));
    return [...(everyType ? [] : [`t.resource_type = ANY(${sql.param(reach.types)}::text[])`]), ...accessConditions(reach.access, sql, 't', tables)];
  }
  if (!reach.types.includes(type)) return ['false'];
  const own = reach.access?.[type];
  return [`t.resource_type = ${sql.param(type)}`, ...accessConditions(own && { [type]: own }, sql, 't', tables)];
}
