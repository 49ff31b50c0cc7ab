import { FhirError } from '../fhir/outcome.js';
import type { WriteRule } from '../rest/write-rules.js';
import { isCcp, patientOf, plansOf } from './care-plan.js';

/**
 * A CCP belongs to one patient for good: it names a Patient of this server as its subject (the consent rules
 * decide by that patient), keeps that patient, and stays a CCP. A plan written for the wrong patient is marked
 * entered-in-error, and the right patient's plan is made anew; moving it would show it to another patient's partners.
 */
export const identityRule: WriteRule = {
  name: 'ccp-identity',
  resourceTypes: ['CarePlan'],
  async check(change) {
    const { plan, current } = plansOf(change);
    if (!plan) return;
    if (isCcp(current) && !isCcp(plan)) {
      throw new FhirError(422, {
        code: 'business-rule',
        diagnostics: 'a CCP stays a CCP: keep its category (ccp); to withdraw it, mark it entered-in-error with a note saying why',
        expression: ['CarePlan.category'],
      });
    }
    if (!isCcp(plan)) return;
    const patient = patientOf(plan.subject);
    if (!patient) {
      throw new FhirError(422, { code: 'business-rule', diagnostics: 'a CCP names its patient with the relative reference Patient/<id>, which ties it to the patient in search and in the consent rules', expression: ['CarePlan.subject'] });
    }
    const before = isCcp(current) ? patientOf(current.subject) : undefined;
    if (before && before !== patient) {
      throw new FhirError(422, {
        code: 'business-rule',
        diagnostics: `this CCP is ${before}'s and cannot move to ${patient}: mark it entered-in-error and create ${patient}'s plan`,
        expression: ['CarePlan.subject'],
      });
    }
  },
};
