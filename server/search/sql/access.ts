import type { Statement } from './statement.js';
import type { AccessAlternative, SearchQuery } from '../query/model.js';
import { filterCondition } from './conditions.js';
import { CLINICAL_TABLES, type TableSet } from './tables.js';

/**
 * A compartment: of one resource (`Patient/123`), of several (`id` a list: a Bulk Data export of a Group's
 * members), or of any resource of the type (`id` absent: a patient-level export of every patient).
 */
export interface CompartmentScope {
  type: string;
  id?: string | readonly string[];
  params: Record<string, string[]>;
}

/**
 * In the compartment of `type`/`id`: a reference parameter that places the resource's type there points at it
 * (R4 CompartmentDefinition); the compartment's own resource belongs to it too. `row` is the resource row's alias.
 */
export function compartmentCondition(compartment: CompartmentScope, sql: Statement, row: string, tables: TableSet = CLINICAL_TABLES): string {
  const byType = Object.entries(compartment.params).map(
    ([memberType, params]) => `(i.resource_type = ${sql.param(memberType)} AND i.param = ANY(${sql.param(params)}::text[]))`,
  );
  const owner = sql.param(compartment.type);
  const { id } = compartment;
  const target = (column: string) =>
    id === undefined ? 'true' : typeof id === 'string' ? `${column} = ${sql.param(id)}` : `${column} = ANY(${sql.param(id)}::text[])`;
  return `(EXISTS (SELECT 1 FROM ${tables.index.reference} i
      WHERE i.rid = ${row}.rid AND i.target_type = ${owner} AND ${target('i.target_id')} AND (${byType.join(' OR ') || 'false'}))
    OR (${row}.resource_type = ${owner} AND ${target(`${row}.id`)}))`;
}

/**
 * What the caller may see (SearchQuery.access), one condition per restricted type: a row of that type meets one
 * of the alternatives the caller's grants allow; with none, no row of that type qualifies.
 */
export function accessConditions(access: SearchQuery['access'], sql: Statement, row: string, tables: TableSet = CLINICAL_TABLES): string[] {
  return Object.entries(access ?? {}).map(([restricted, alternatives]) => {
    const type = sql.param(restricted);
    const ways = alternatives.map((alternative) => alternativeCondition(alternative, type, sql, row, tables));
    return `(${row}.resource_type <> ${type} OR ${ways.length ? `(${ways.join(' OR ')})` : 'false'})`;
  });
}

function alternativeCondition(alternative: AccessAlternative, type: string, sql: Statement, row: string, tables: TableSet): string {
  let n = 0;
  const alias = () => `a${++n}`;
  const parts = alternative.filters.map((filter) => filterCondition(filter, sql, { row, type, alias, tables }));
  if (alternative.patientCompartment) parts.push(compartmentCondition({ type: 'Patient', ...alternative.patientCompartment }, sql, row, tables));
  return parts.length ? `(${parts.join(' AND ')})` : 'true';
}
