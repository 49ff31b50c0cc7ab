import { FhirError } from '../fhir/outcome.js';
import type { WriteRule } from '../rest/write-rules.js';
import { isCcp } from './care-plan.js';

/**
 * A CCP is corrected, never erased: DELETE is refused with 409, which the RESTful API specification gives to a
 * delete refused for reasons of the resource itself (405 would say the server never deletes CarePlans).
 */
export const noDeleteRule: WriteRule = {
  name: 'ccp-no-delete',
  resourceTypes: ['CarePlan'],
  async check(change) {
    if (change.interaction !== 'delete' || !isCcp(change.current)) return;
    throw new FhirError(409, {
      code: 'business-rule',
      diagnostics: `CarePlan/${change.id} is a CCP and is never deleted: complete or revoke it, or, if it is wrong, mark it entered-in-error with a note saying why`,
      expression: ['CarePlan.status'],
    });
  },
};
