import type { Annotation, CarePlan } from 'fhir/r4';
import { FhirError } from '../fhir/outcome.js';
import type { WriteChange, WriteRule } from '../rest/write-rules.js';
import { isCcp, patientOf, plansOf, sameJson } from './care-plan.js';
import { correctionProvenance } from './correction-provenance.js';

/**
 * Marking a CCP entered-in-error is a correction: it needs a new CarePlan.note saying why, and it leaves a
 * Provenance written in the same transaction. Every earlier version stays in the history.
 */
export const correctionRule: WriteRule = {
  name: 'ccp-correction',
  resourceTypes: ['CarePlan'],
  async check(change) {
    const correction = correctionOf(change);
    if (correction && !correction.why.length) {
      throw new FhirError(422, {
        code: 'required',
        diagnostics: 'marking a CCP entered-in-error needs a new CarePlan.note saying why it is wrong',
        expression: ['CarePlan.note'],
      });
    }
  },
  async written(change, written, { store }) {
    const correction = correctionOf(change);
    if (!correction || !written) return;
    await store.create(correctionProvenance(written as CarePlan, patientOf(correction.plan.subject)!, correction.why, change.caller));
  },
};

/** The plan being moved into entered-in-error, with the notes it adds; undefined for any other write. */
function correctionOf(change: WriteChange): { plan: CarePlan; why: Annotation[] } | undefined {
  const { plan, current } = plansOf(change);
  if (!isCcp(plan) || plan.status !== 'entered-in-error' || !current || current.status === 'entered-in-error') return undefined;
  const why = (plan.note ?? []).filter((note) => note.text.trim() !== '' && !(current.note ?? []).some((before) => sameJson(before, note)));
  return { plan, why };
}
