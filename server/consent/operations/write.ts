import type { Resource } from 'fhir/r4';
import { FhirError } from '../../fhir/outcome.js';
import type { ResourceStore } from '../../store/resource-store.js';

/**
 * A new version of `resource`, only if no one wrote it since it was read (its meta.versionId): two reviewers
 * deciding one request at once get one success and one 409, never two decisions.
 */
export async function replace<T extends Resource>(store: ResourceStore, resource: T & { id: string }): Promise<T> {
  const result = await store.update(resource, { ifMatch: resource.meta?.versionId, allowCreate: false });
  if (result.kind === 'updated') return result.resource as T;
  throw new FhirError(409, { code: 'conflict', diagnostics: `${resource.resourceType}/${resource.id} changed while this request was decided: read it again` });
}

/** The version to write next: the stored one with `changes`, its meta kept so the write checks its version. */
export function changed<T extends Resource>(stored: T, changes: Partial<T>): T & { id: string } {
  return { ...stored, ...changes, id: stored.id! };
}
