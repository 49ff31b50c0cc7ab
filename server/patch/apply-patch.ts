import type { Resource } from 'fhir/r4';
import { FhirError } from '../fhir/outcome.js';
import { applyFhirPathPatch } from './fhirpath-patch.js';
import { applyJsonPatch } from './json-patch.js';

export const JSON_PATCH = 'application/json-patch+json';

/**
 * The resource after a patch: JSON Patch when the body was sent as `application/json-patch+json`, otherwise
 * FHIRPath Patch (a Parameters resource). A patch may not change what the resource is: its type and its id.
 * The result is not yet validated: the caller validates it as it would an update.
 */
export function applyPatch(current: Resource, patch: unknown, contentType: string | undefined): unknown {
  const isJsonPatch = contentType?.split(';')[0].trim().toLowerCase() === JSON_PATCH;
  const patched = isJsonPatch ? applyJsonPatch(current, patch) : applyFhirPathPatch(current, patch);
  const result = patched as Partial<Resource> | null;
  if (typeof result !== 'object' || result === null || Array.isArray(result)) {
    throw new FhirError(422, { code: 'processing', diagnostics: 'The patch does not leave a resource (a JSON object)' });
  }
  if (result.resourceType !== current.resourceType || result.id !== current.id) {
    throw new FhirError(422, {
      code: 'processing',
      diagnostics: `A patch may not change the resource's type or id (${current.resourceType}/${current.id})`,
    });
  }
  return result;
}
