import type { CarePlan, Reference, Resource } from 'fhir/r4';
import { isDeepStrictEqual } from 'node:util';
import { CAREPLAN_CATEGORY, CCP_CODE } from '../conformance/consent-vocabulary.js';
import type { WriteChange } from '../rest/write-rules.js';

export type CarePlanStatus = CarePlan['status'];

/** A CCP is a CarePlan with the CCP category. */
export function isCcp(resource: Resource | undefined): resource is CarePlan {
  return (
    resource?.resourceType === 'CarePlan' &&
    (resource as CarePlan).category?.some((c) => c.coding?.some((coding) => coding.system === CAREPLAN_CATEGORY && coding.code === CCP_CODE)) === true
  );
}

/** The plan a change writes and the one it replaces, as CarePlans. */
export function plansOf(change: WriteChange): { plan?: CarePlan; current?: CarePlan } {
  return { plan: change.resource as CarePlan | undefined, current: change.current as CarePlan | undefined };
}

/**
 * `Patient/<id>` when the reference is that relative reference, otherwise undefined. Only the relative form
 * ties a row to its patient in the search index, and so in the consent rules: an absolute URL is indexed as
 * written.
 */
export function patientOf(reference: Reference | undefined): string | undefined {
  const literal = reference?.reference;
  return literal && /^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(literal) ? literal : undefined;
}

/**
 * Equal as JSON: key order aside (PostgreSQL's jsonb reorders keys), and whatever realm made the objects
 * (structuredClone, as patches use, does not keep prototypes a deep-equality check would compare).
 */
export function sameJson(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a ?? null)), JSON.parse(JSON.stringify(b ?? null)));
}
