import { ACCESS_PARAM } from '../index/access-rows.js';
import type { Statement } from './statement.js';

/**
 * An `_access` row (server/search/index/access-rows.ts) under `alias` that is one of `kinds`, is about the patient whose
 * id is the SQL expression `patient`, names one of `actors`, and holds now.
 */
export function accessRule(sql: Statement, alias: string, kinds: string[], patient: string, actors: string[]): string {
  return `${alias}.resource_type = 'Consent' AND ${alias}.param = '${ACCESS_PARAM}'
      AND ${alias}.c1_system = ANY(${sql.param(kinds)}::text[])
      AND ${alias}.c1_code = ANY(ARRAY[${actors.map((actor) => `${patient} || ${sql.param(`|${actor}`)}`).join(', ')}]::text[])
      AND ${alias}.c2_date_low <= now() AND ${alias}.c2_date_high >= now()`;
}

/**
 * `FROM … WHERE …` selecting, under `alias`, the Patient references by which the row `row` names its patients:
 * per type, the reference parameters of `params` (server/conformance/consent-vocabulary.ts, PATIENT_PARAMS).
 */
export function patientReferences(sql: Statement, row: string, alias: string, params: Record<string, string[]>): string {
  const names = Object.entries(params)
    .map(([type, codes]) => `(${alias}.resource_type = ${sql.param(type)} AND ${alias}.param = ANY(${sql.param(codes)}::text[]))`)
    .join(' OR ');
  return `FROM search_reference ${alias} WHERE ${alias}.rid = ${row}.rid AND ${alias}.target_type = 'Patient' AND (${names})`;
}
