import type { CarePlan } from 'fhir/r4';
import { FhirError } from '../fhir/outcome.js';
import type { WriteRule } from '../rest/write-rules.js';
import { isCcp, plansOf, sameJson } from './care-plan.js';
import { lifecycleProblem } from './lifecycle.js';

/** A CCP's status follows the lifecycle (lifecycle.ts), whether it is written whole (PUT) or patched. */
export const statusRule: WriteRule = {
  name: 'ccp-status',
  resourceTypes: ['CarePlan'],
  async check(change) {
    const { plan, current } = plansOf(change);
    if (!plan || !isCcp(plan)) return;
    const problem = lifecycleProblem(current?.status, plan.status, current !== undefined && sameContent(plan, current));
    if (problem) throw new FhirError(problem.status, { code: 'business-rule', diagnostics: problem.diagnostics, expression: ['CarePlan.status'] });
  },
};

/** Equal apart from what the server writes itself (meta, the generated narrative): writing it again changes nothing. */
function sameContent(a: CarePlan, b: CarePlan): boolean {
  const strip = ({ meta: _meta, text: _text, ...rest }: CarePlan) => rest;
  return sameJson(strip(a), strip(b));
}
