import { GATED_TYPES, isGatedType, PATIENT_PARAMS } from '../../conformance/consent-vocabulary.js';
import type { Statement } from './statement.js';
import type { ConsentGate } from '../query/model.js';
import { consentRecordConditions } from './consent-records.js';
import { accessRule, patientReferences } from './consent-rules.js';

/**
 * The consent decision as a condition on the resource row `row`: a row of a gated type is visible to the partner
 * only if it names at least one patient and, for every patient it names, the partner's organization holds an
 * active registration at the level needed and no active directive withholds the plan from the organization or the
 * person (deny wins; a nested permit is an exception) — or the person holds an active override. The rules are the
 * `_access` rows active Consents write (server/search/index/access-rows.ts), looked up through the composite index.
 * Besides the plan, the records of consent itself that are the partner's own business (its registration requests;
 * for a privacy contact, overrides, notices and directives) are visible by their own rules (consent-records.ts).
 * Other types pass untouched.
 *
 * `types`: the types the row can have, where the statement already restricts them (a search of one type, a chain's
 * targets, an include's source). The condition then holds only the rules of those types: planning each rule is
 * most of what a partner's statement costs beyond the host's (docs/SEARCH.md, "Consent"). Narrowing fails closed:
 * a row of a gated type outside `types` meets none of the rules left, so it stays hidden.
 */
export function consentCondition(gate: ConsentGate, sql: Statement, row: string, types?: readonly string[]): string {
  const gatedHere = GATED_TYPES.filter((type) => !types || types.includes(type));
  // Built only where used: an unused parameter has no type PostgreSQL can infer.
  const untouched = () => `${row}.resource_type <> ALL(${sql.param([...GATED_TYPES])}::text[])`;
  if (!gatedHere.length) return `(${untouched()})`;
  const p = `${row}_p`;
  const patientRefs = patientReferences(sql, row, p, Object.fromEntries(gatedHere.map((type) => [type, PATIENT_PARAMS[type]])));
  // At least one patient, and every one permitted: bool_and over none is null, which coalesce makes false.
  const plan = `coalesce((SELECT bool_and(${permitted(gate, sql, `${p}.target_id`, row)}) ${patientRefs}), false)`;
  const mayBeUngated = !types || types.some((type) => !isGatedType(type));
  return `(${[...(mayBeUngated ? [untouched()] : []), plan, ...consentRecordConditions(gate, sql, row, gatedHere)].join(' OR ')})`;
}

/**
 * The partner may see the plan of the patient whose id is the SQL expression `patient`. One look at the patient's
 * `_access` rows that name the partner's organization, everyone (`*`) or the person decides it, each way a
 * `bool_or` over them: a registration at the level needed (the organization's), not outweighed by a deny (of
 * anyone of those) that has no exception for the organization or the person; or the person's override. One
 * subquery rather than one per rule: each subquery costs the planner about as much as the search's own conditions.
 */
function permitted(gate: ConsentGate, sql: Statement, patient: string, row: string): string {
  const organization = gate.organization && `Organization/${gate.organization}`;
  const practitioner = gate.practitioner && `Practitioner/${gate.practitioner}`;
  const people = [organization, practitioner].filter((actor): actor is string => Boolean(actor));
  if (!people.length) return 'false';
  const [a, e] = ['a', 'e'].map((letter) => `${row}_${letter}`);
  const names = (actor: string) => `${a}.c1_code = ${patient} || ${sql.param(`|${actor}`)}`;
  const any = (condition: string) => `coalesce(bool_or(${condition}), false)`;

  const kinds: string[] = [];
  const ways: string[] = [];
  if (organization) {
    const levels = gate.level === 'modify' ? ['registration-modify'] : ['registration-view', 'registration-modify'];
    kinds.push(...levels, 'deny');
    const excepted = `EXISTS (SELECT 1 FROM search_composite ${e} WHERE ${e}.rid = ${a}.rid AND ${accessRule(sql, e, ['deny-except'], patient, people)})`;
    ways.push(`(${any(`${a}.c1_system = ANY(${sql.param(levels)}::text[]) AND ${names(organization)}`)}
        AND NOT ${any(`${a}.c1_system = 'deny' AND NOT ${excepted}`)})`);
  }
  if (practitioner) {
    kinds.push('override');
    ways.push(any(`${a}.c1_system = 'override' AND ${names(practitioner)}`));
  }
  // A deny names '*' or one of the people; registrations and overrides are told apart by their actor above.
  const actors = organization ? ['*', ...people] : people;
  return `(SELECT ${ways.join(' OR ')} FROM search_composite ${a} WHERE ${accessRule(sql, a, kinds, patient, actors)})`;
}
