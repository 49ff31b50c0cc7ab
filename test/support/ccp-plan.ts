import type { CarePlan } from 'fhir/r4';
import { CAREPLAN_CATEGORY, CCP_CODE } from '../../server/conformance/consent-vocabulary.js';

/** The least a Coordinated Care Plan needs: active, of the CCP category, for `patient`; `extra` adds or replaces elements. */
export function ccpPlan(id: string, patient: string, extra: Partial<CarePlan> = {}): CarePlan & { id: string } {
  return {
    resourceType: 'CarePlan',
    id,
    status: 'active',
    intent: 'plan',
    category: [{ coding: [{ system: CAREPLAN_CATEGORY, code: CCP_CODE }] }],
    subject: { reference: `Patient/${patient}` },
    ...extra,
  };
}
