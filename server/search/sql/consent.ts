import { GATED_TYPES, PATIENT_PARAMS } from '../../consent/vocabulary.js';
import type { Statement } from '../../store/statement.js';
import type { ConsentGate } from '../query/model.js';
import { consentRecordConditions } from './consent-records.js';
import { accessRule, patientReferences } from './consent-rules.js';

/**
 * The consent decision as a condition on the resource row `row`: a row of a gated type is visible to the partner
 * only if it names at least one patient and, for every patient it names, the partner's organization holds an
 * active registration at the level needed and no active directive withholds the plan from the organization or the
 * person (deny wins; a nested permit is an exception) — or the person holds an active override. The rules are the
 * `_access` rows active Consents write (server/consent/access-rows.ts), looked up through the composite index.
 * Besides the plan, the records of consent itself that are the partner's own business (its registration requests;
 * for a privacy contact, overrides, notices and directives) are visible by their own rules (consent-records.ts).
 * Other types pass untouched.
 */
export function consentCondition(gate: ConsentGate, sql: Statement, row: string): string {
  const gated = sql.param([...GATED_TYPES]);
  const p = `${row}_p`;
  const patientRefs = patientReferences(sql, row, p, PATIENT_PARAMS);
  const plan = `(EXISTS (SELECT 1 ${patientRefs})
    AND NOT EXISTS (SELECT 1 ${patientRefs} AND NOT ${permitted(gate, sql, `${p}.target_id`, row)}))`;
  return `(${row}.resource_type <> ALL(${gated}::text[]) OR ${[plan, ...consentRecordConditions(gate, sql, row)].join(' OR ')})`;
}

/** The partner may see the plan of the patient whose id is the SQL expression `patient`. */
function permitted(gate: ConsentGate, sql: Statement, patient: string, row: string): string {
  const rule = (alias: string, kinds: string[], actors: string[]) => accessRule(sql, alias, kinds, patient, actors);
  const organization = gate.organization && `Organization/${gate.organization}`;
  const practitioner = gate.practitioner && `Practitioner/${gate.practitioner}`;
  const people = [organization, practitioner].filter((actor): actor is string => Boolean(actor));
  const [g, d, e, o] = ['g', 'd', 'e', 'o'].map((letter) => `${row}_${letter}`);

  const ways: string[] = [];
  if (organization) {
    const levels = gate.level === 'modify' ? ['registration-modify'] : ['registration-view', 'registration-modify'];
    ways.push(`(EXISTS (SELECT 1 FROM search_composite ${g} WHERE ${rule(g, levels, [organization])})
      AND NOT EXISTS (SELECT 1 FROM search_composite ${d} WHERE ${rule(d, ['deny'], ['*', ...people])}
        AND NOT EXISTS (SELECT 1 FROM search_composite ${e} WHERE ${e}.rid = ${d}.rid AND ${rule(e, ['deny-except'], people)})))`);
  }
  if (practitioner) ways.push(`EXISTS (SELECT 1 FROM search_composite ${o} WHERE ${rule(o, ['override'], [practitioner])})`);
  return ways.length ? `(${ways.join(' OR ')})` : 'false';
}
