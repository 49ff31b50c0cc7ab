import { GATED_TYPES, isGatedType, PATIENT_PARAMS } from '../../conformance/consent-vocabulary.js';
import { R4_COMPARTMENTS } from '../../fhir/r4/compartments.generated.js';
import type { Statement } from './statement.js';
import type { ConsentGate } from '../query/model.js';
import { consentRecordConditions } from './consent-records.js';
import { patientReferences } from './consent-rules.js';

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
  const plan = `coalesce((SELECT bool_and(${permitted(gate, sql, `${p}.target_id`)}) ${patientRefs}), false)`;
  const mayBeUngated = !types || types.some((type) => !isGatedType(type));
  return `(${[...(mayBeUngated ? [untouched()] : []), plan, ...consentRecordConditions(gate, sql, row, gatedHere)].join(' OR ')})`;
}

/**
 * A Bulk Data export discloses a population, where a search looks one patient up: for a partner held by consent,
 * the rows that belong to patients but that consent does not govern (the Patient itself, which a partner searches
 * to find whom to register, and the other types of the Patient compartment) are exported only for the patients
 * whose plan the partner may see, every patient the row names (docs/BULK.md, "What a partner's export holds").
 * Undefined for a gated type (consentCondition decides it) and for a type outside the compartment.
 */
export function populationCondition(gate: ConsentGate, sql: Statement, row: string, type: string): string | undefined {
  if (isGatedType(type)) return undefined;
  if (type === 'Patient') return permitted(gate, sql, `${row}.id`);
  const params = R4_COMPARTMENTS.Patient[type];
  if (!params?.length) return undefined;
  const p = `${row}_pp`;
  return `coalesce((SELECT bool_and(${permitted(gate, sql, `${p}.target_id`)}) ${patientReferences(sql, row, p, { [type]: params })}), false)`;
}

/** Whether a partner's export of `type` is held to the patients it may see (a gated type, or the Patient compartment's). */
export function heldToPatients(type: string): boolean {
  return isGatedType(type) || type === 'Patient' || Boolean(R4_COMPARTMENTS.Patient[type]?.length);
}

/**
 * The partner may see the plan of the patient whose id is the SQL expression `patient`: migration 012's
 * `consent_permits`, one look at the patient's `_access` rows that name the partner's organization, everyone (`*`)
 * or the person (a registration at the level needed, not outweighed by a deny without an exception for them; or the
 * person's override). A function rather than subqueries in the statement: PL/pgSQL plans its statement once per
 * session, where subqueries here would be planned with every search, and planning them cost a partner's search
 * about as much as the search's own conditions.
 */
function permitted(gate: ConsentGate, sql: Statement, patient: string): string {
  const organization = gate.organization ? `Organization/${gate.organization}` : null;
  const practitioner = gate.practitioner ? `Practitioner/${gate.practitioner}` : null;
  if (!organization && !practitioner) return 'false';
  const levels = gate.level === 'modify' ? ['registration-modify'] : ['registration-view', 'registration-modify'];
  return `consent_permits(${patient}, ${sql.param(organization)}::text, ${sql.param(practitioner)}::text, ${sql.param(levels)}::text[])`;
}
