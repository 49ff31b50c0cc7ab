import { FhirError } from '../fhir/outcome.js';
import { CAREPLAN_CATEGORY, CCP_CODE } from '../conformance/consent-vocabulary.js';
import { matching } from '../rest/conditional.js';
import type { WriteRule } from '../rest/write-rules.js';
import { isCcp, patientOf, plansOf } from './care-plan.js';

/**
 * At most one active CCP per patient. Writers of one patient's plans take turns on a lock before they look, so
 * of concurrent writers making a plan active exactly one succeeds, in every server process.
 */
export const oneActiveRule: WriteRule = {
  name: 'ccp-one-active',
  resourceTypes: ['CarePlan'],
  async check(change, { store, registry, baseUrl }) {
    const { plan } = plansOf(change);
    if (!isCcp(plan) || plan.status !== 'active') return;
    // identity-rule.ts has made sure a CCP names its patient.
    const patient = patientOf(plan.subject)!;
    await store.lock(`ccp:${patient}`);
    const criteria = { subject: [patient], status: ['active'], category: [`${CAREPLAN_CATEGORY}|${CCP_CODE}`] };
    const found = await matching(store, registry, 'CarePlan', criteria, baseUrl, 2);
    // A create has not been written yet, so only an update can meet itself here.
    const other = found.find((existing) => change.interaction === 'create' || existing.id !== change.id);
    if (other) {
      throw new FhirError(409, {
        code: 'conflict',
        diagnostics: `${patient} already has an active CCP (CarePlan/${other.id}): complete it, revoke it or put it on hold first`,
        expression: ['CarePlan.status'],
      });
    }
  },
};
