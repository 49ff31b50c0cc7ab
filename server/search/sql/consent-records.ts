import {
  ACT_CODE,
  CONSENT_CATEGORY,
  CONSENT_SCOPE,
  OVERRIDE_CODE,
  PRIVACY_SCOPE,
  REGISTRATION_CODE,
  REGISTRATION_TASK,
  TASK_CODE_SYSTEM,
} from '../../conformance/consent-vocabulary.js';
import type { Statement } from './statement.js';
import type { ConsentGate } from '../query/model.js';
import { accessRule, patientReferences } from './consent-rules.js';

/**
 * The records of consent itself that are a partner's own business, visible whatever the patient's registrations
 * and directives say (docs/CONSENT.md, "Who sees the records of consent"), each a condition on the row `row`:
 *
 * - to anyone acting for organization O (view): O's registration requests, the Task (code ccp-registration,
 *   requester O) and the Consent (category ccp-registration, actor O), whatever their status;
 * - to a privacy contact of O (view): the overrides (category INFA) whose organization is O, and the overrides
 *   named in the `about` of a Communication whose recipient is their PractitionerRole or O (the notices);
 * - to a privacy contact of O (view and modify): the directives (patient-privacy Consents that are neither
 *   registrations nor overrides) of patients for whom O holds an active registration (view or modify) now.
 *
 * Only the server writes registrations and overrides (server/consent/write-rule.ts), so the organization they
 * name is the one that asked. A notice counts only for the override it names: Communications are written by
 * any contributor, so one cannot open a patient's plan.
 *
 * `types`: the types the row can have; the conditions of the others are left out (each costs planning time).
 */
export function consentRecordConditions(gate: ConsentGate, sql: Statement, row: string, types: readonly string[]): string[] {
  const organization = gate.organization;
  if (organization === undefined) return [];
  const [tasks, consents] = [types.includes('Task'), types.includes('Consent')];
  const is = (type: 'Consent' | 'Task') => `${row}.resource_type = '${type}'`;
  const token = (alias: string, param: string, system: string, code: string) =>
    `EXISTS (SELECT 1 FROM search_token ${alias} WHERE ${alias}.rid = ${row}.rid AND ${alias}.param = ${sql.param(param)}
      AND ${alias}.system = ${sql.param(system)} AND ${alias}.code = ${sql.param(code)})`;
  const names = (alias: string, param: string, type: string, id: string) =>
    `EXISTS (SELECT 1 FROM search_reference ${alias} WHERE ${alias}.rid = ${row}.rid AND ${alias}.param = ${sql.param(param)}
      AND ${alias}.target_type = ${sql.param(type)} AND ${alias}.target_id = ${sql.param(id)})`;
  const [k1, k2, k3, f1] = ['k1', 'k2', 'k3', 'f1'].map((suffix) => `${row}_${suffix}`);
  // Built only where used: each call numbers its parameters, and an unused one has no type PostgreSQL can infer.
  const registrationConsent = () => token(k1, 'category', CONSENT_CATEGORY, REGISTRATION_CODE);
  const override = () => token(k2, 'category', ACT_CODE, OVERRIDE_CODE);

  const ways: string[] = [];
  if (gate.level === 'view') {
    if (tasks) ways.push(`(${is('Task')} AND ${token(k3, 'code', TASK_CODE_SYSTEM, REGISTRATION_TASK)} AND ${names(f1, 'requester', 'Organization', organization)})`);
    if (consents) ways.push(`(${is('Consent')} AND ${registrationConsent()} AND ${names(f1, 'actor', 'Organization', organization)})`);
    if (consents && gate.privacyContact) {
      const recorded = `${override()} AND NOT ${registrationConsent()}`;
      ways.push(`(${is('Consent')} AND ${recorded} AND (${names(f1, 'organization', 'Organization', organization)} OR ${notified(gate, sql, row)}))`);
    }
  }
  if (consents && gate.privacyContact) {
    const directive = `${token(k3, 'scope', CONSENT_SCOPE, PRIVACY_SCOPE)} AND NOT ${registrationConsent()} AND NOT ${override()}`;
    ways.push(`(${is('Consent')} AND ${directive} AND ${ofPatientsTakenPartIn(organization, sql, row)})`);
  }
  return ways;
}

/** The row is named in the `about` of a Communication addressed to the caller's PractitionerRole or organization. */
function notified(gate: ConsentGate, sql: Statement, row: string): string {
  const [l, n] = [`${row}_l`, `${row}_n`];
  const recipients = [
    ...(gate.practitionerRole !== undefined ? [`(${n}.target_type = 'PractitionerRole' AND ${n}.target_id = ${sql.param(gate.practitionerRole)})`] : []),
    `(${n}.target_type = 'Organization' AND ${n}.target_id = ${sql.param(gate.organization)})`,
  ];
  // resource_link (server/search/index/links.ts) knows each reference's element, which no R4 search parameter indexes.
  return `EXISTS (SELECT 1 FROM resource_link ${l} JOIN search_reference ${n} ON ${n}.rid = ${l}.rid
    WHERE ${l}.target_type = ${row}.resource_type AND ${l}.target_id = ${row}.id
      AND ${l}.resource_type = 'Communication' AND ${l}.param LIKE 'Communication.about[%'
      AND ${n}.param = 'recipient' AND (${recipients.join(' OR ')}))`;
}

/** Every patient the Consent names is one whose plan `organization` takes part in: an active registration, any level. */
function ofPatientsTakenPartIn(organization: string, sql: Statement, row: string): string {
  const [q, a] = [`${row}_q`, `${row}_a`];
  const patients = patientReferences(sql, row, q, { Consent: ['patient'] });
  const registered = accessRule(sql, a, ['registration-view', 'registration-modify'], `${q}.target_id`, [`Organization/${organization}`]);
  // At least one patient, and every one registered (as in consent.ts: bool_and over none is null, made false).
  return `coalesce((SELECT bool_and(EXISTS (SELECT 1 FROM search_composite ${a} WHERE ${registered})) ${patients}), false)`;
}
