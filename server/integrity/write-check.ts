import type { Resource } from 'fhir/r4';
import type { Caller } from '../access/caller.js';
import { FhirError } from '../fhir/outcome.js';
import type { ResourceStore } from '../store/resource-store.js';
import { checkUnreferenced } from './delete-rule.js';
import { UNCHECKED_WRITES } from '../search/index/exemptions.js';
import { localReferences } from '../search/index/local-references.js';
import type { Integrity } from './settings.js';
import { type CheckedReference, unresolvedTargets, wrongTargetTypes } from './target-rule.js';

/**
 * The references of a write that need checking: the local ones (server/search/index/local-references.ts), but not a
 * resource's references to itself (a PUT may create what it names). Empty when the check is off or exempt.
 */
export function referencesToCheck(resource: Resource | undefined, id: string | undefined, baseUrl: string, integrity: Integrity | undefined): CheckedReference[] {
  if (!resource || !integrity?.checkWrites || UNCHECKED_WRITES.has(resource.resourceType)) return [];
  const own = id ?? resource.id;
  return localReferences(resource, baseUrl).filter((ref) => !(ref.type === resource.resourceType && ref.id === own));
}

/**
 * Refuses a write (422) whose references name a resource of a type their element does not allow, or one that is
 * not there for the caller; every problem is named at once. In a transaction Bundle the second part waits for
 * the Bundle's end (server/integrity/deferred.ts).
 */
export async function checkWriteReferences(references: readonly CheckedReference[], store: ResourceStore, caller: Caller, integrity: Integrity): Promise<void> {
  if (!references.length) return;
  const wrongTypes = wrongTargetTypes(references);
  if (wrongTypes.length) throw new FhirError(422, wrongTypes);
  if (integrity.deferred) return integrity.deferred.addReferences(references);
  const issues = await unresolvedTargets(references, store, caller, integrity);
  if (issues.length) throw new FhirError(422, issues);
}

/** Refuses a delete (409) while current resources refer to the resource; call it after the delete, in its transaction. */
export async function checkDeleteReferrers(type: string, id: string, store: ResourceStore, caller: Caller, integrity: Integrity): Promise<void> {
  if (!integrity.checkDeletes) return;
  if (integrity.deferred) return integrity.deferred.addDelete(type, id);
  await checkUnreferenced([{ type, id }], store, caller, integrity);
}
