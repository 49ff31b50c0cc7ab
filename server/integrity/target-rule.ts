import type { Caller } from '../access/caller.js';
import type { Issue } from '../fhir/outcome.js';
import type { ResourceStore } from '../store/resource-store.js';
import type { LocalReference } from '../search/index/local-references.js';
import { type Integrity, visibilityOf } from './settings.js';

/** A reference to check, and where it is written: the FHIRPath naming it in the request (`CarePlan.goal[1]`). */
export interface CheckedReference extends LocalReference {
  /** The expression the issue names, when not `expression` itself (a Bundle entry: `Bundle.entry[2].resource.goal[1]`). */
  where?: string;
  /** Put before the diagnostics (a Bundle entry: `Bundle.entry[2] (POST CarePlan): `). */
  prefix?: string;
}

/**
 * A reference's type must be one its element allows: `CarePlan.subject` may name a Patient or a Group only. Known
 * from the definitions alone, before any query.
 */
export function wrongTargetTypes(references: readonly CheckedReference[]): Issue[] {
  return references
    .filter((ref) => ref.allowed && !ref.allowed.includes(ref.type))
    .map((ref) => ({
      code: 'structure',
      diagnostics: `${ref.prefix ?? ''}${ref.expression} refers to ${ref.reference}, a ${ref.type}, but may refer to ${ref.allowed!.join(', ')} only`,
      expression: [ref.where ?? ref.expression],
    }));
}

/**
 * Every reference must name a current resource the caller can see: all of a write's references in one query.
 * Missing and hidden by consent read alike (`is not known`, as a read by id says); a deleted target is named so,
 * unless the caller could not see it.
 */
export async function unresolvedTargets(references: readonly CheckedReference[], store: ResourceStore, caller: Caller, integrity: Integrity): Promise<Issue[]> {
  if (!references.length) return [];
  const keys = new Map(references.map((ref) => [`${ref.type}/${ref.id}`, { type: ref.type, id: ref.id }]));
  const found = await store.resolveTargets([...keys.values()], visibilityOf(caller, integrity));
  const issues: Issue[] = [];
  for (const ref of references) {
    const state = found.get(`${ref.type}/${ref.id}`);
    if (state === 'current') continue;
    const what = state === 'deleted' ? `${ref.type}/${ref.id} has been deleted` : `${ref.type}/${ref.id} is not known`;
    issues.push({ code: state === 'deleted' ? 'deleted' : 'not-found', diagnostics: `${ref.prefix ?? ''}${ref.expression} refers to ${ref.reference}: ${what}`, expression: [ref.where ?? ref.expression] });
  }
  return issues;
}
