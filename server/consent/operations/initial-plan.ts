import type { CarePlan, Resource } from 'fhir/r4';
import type { Caller } from '../../access/caller.js';
import { FhirError } from '../../fhir/outcome.js';
import type { FhirContext } from '../../rest/types.js';
import { rulesContext, writeUnderRules } from '../../rest/write-rules.js';
import type { ResourceStore } from '../../store/resource-store.js';
import { validateResource } from '../../validation/validate-resource.js';
import { CAREPLAN_CATEGORY, CCP_CODE } from '../../conformance/consent-vocabulary.js';
import { invalidParameter, where } from './parameters.js';

/**
 * The `carePlan` of a registration that initiates a CCP: a valid CarePlan about this patient, given the CCP
 * category if it lacks it. Its problems are named inside the parameter.
 */
export function initialPlan(resource: Resource, patient: string, context: FhirContext): CarePlan {
  if (resource.resourceType !== 'CarePlan') throw invalidParameter('carePlan', `expected a CarePlan, not a ${resource.resourceType}`);
  const plan = withinParameter(() => validateResource(context, resource, 'CarePlan') as CarePlan);
  if (plan.subject?.reference !== `Patient/${patient}`) {
    throw invalidParameter('carePlan', `the plan's subject must be Patient/${patient}, the patient registered for`);
  }
  const isCcp = plan.category?.some((c) => c.coding?.some((coding) => coding.system === CAREPLAN_CATEGORY && coding.code === CCP_CODE));
  const { id: _ignored, ...withoutId } = plan;
  return isCcp ? withoutId : { ...withoutId, category: [...(plan.category ?? []), { coding: [{ system: CAREPLAN_CATEGORY, code: CCP_CODE }] }] };
}

/**
 * Creates the plan inside the registration's transaction under the CCP write rules, as a REST create would be
 * (one active CCP per patient, lifecycle, narrative).
 */
export function createPlan(store: ResourceStore, plan: CarePlan, caller: Caller, context: FhirContext, baseUrl: string): Promise<CarePlan> {
  return withinParameter(() =>
    writeUnderRules(
      { interaction: 'create', resourceType: 'CarePlan', resource: plan, caller },
      rulesContext(context, baseUrl, store),
      async (tx, resource) => (await tx.create(resource!)) as CarePlan,
      (created) => ({ resource: created }),
    ),
  );
}

/** Runs `work`, naming the problems it finds with the plan (`CarePlan.status`) inside the `carePlan` parameter. */
function withinParameter<T>(work: () => T): T {
  const rename = (error: unknown): never => {
    if (!(error instanceof FhirError)) throw error;
    throw new FhirError(
      error.status,
      error.issues.map((issue) => ({
        ...issue,
        diagnostics: `carePlan: ${issue.diagnostics}`,
        expression: (issue.expression ?? ['CarePlan']).map((path) => `${where('carePlan')}.resource${path.replace(/^CarePlan/, '')}`),
      })),
      error.headers,
    );
  };
  try {
    const result = work();
    return result instanceof Promise ? (result.catch(rename) as T) : result;
  } catch (error) {
    return rename(error);
  }
}
