import type { CarePlan, Resource } from 'fhir/r4';
import { FhirError } from '../../fhir/outcome.js';
import type { FhirContext } from '../../rest/types.js';
import type { ResourceStore } from '../../store/resource-store.js';
import { validateResource } from '../../validation/validate-resource.js';
import { CAREPLAN_CATEGORY, CCP_CODE } from '../vocabulary.js';
import { invalidParameter, where } from './parameters.js';

/**
 * The `carePlan` of a registration that initiates a CCP: a valid CarePlan about this patient, given the CCP
 * category if it lacks it. Its problems are named inside the parameter.
 */
export function initialPlan(resource: Resource, patient: string, context: FhirContext): CarePlan {
  if (resource.resourceType !== 'CarePlan') throw invalidParameter('carePlan', `expected a CarePlan, not a ${resource.resourceType}`);
  let plan: CarePlan;
  try {
    plan = validateResource(context.schema, resource, 'CarePlan') as CarePlan;
  } catch (error) {
    if (!(error instanceof FhirError)) throw error;
    throw new FhirError(
      error.status,
      error.issues.map((issue) => ({
        ...issue,
        diagnostics: `carePlan: ${issue.diagnostics}`,
        expression: (issue.expression ?? ['CarePlan']).map((path) => `${where('carePlan')}.resource${path.replace(/^[A-Za-z]+/, '')}`),
      })),
    );
  }
  if (plan.subject?.reference !== `Patient/${patient}`) {
    throw invalidParameter('carePlan', `the plan's subject must be Patient/${patient}, the patient registered for`);
  }
  const isCcp = plan.category?.some((c) => c.coding?.some((coding) => coding.system === CAREPLAN_CATEGORY && coding.code === CCP_CODE));
  const { id: _ignored, ...withoutId } = plan;
  return isCcp ? withoutId : { ...withoutId, category: [...(plan.category ?? []), { coding: [{ system: CAREPLAN_CATEGORY, code: CCP_CODE }] }] };
}

/** Stores the new plan inside the registration's transaction. */
export async function createPlan(store: ResourceStore, plan: CarePlan): Promise<CarePlan> {
  return (await store.create(plan)) as CarePlan;
}
