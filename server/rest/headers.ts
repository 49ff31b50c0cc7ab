import type { Resource } from 'fhir/r4';
import { FhirError } from '../fhir/outcome.js';

/** `W/"3"` */
export function etag(versionId: string): string {
  return `W/"${versionId}"`;
}

/**
 * The version id an `If-Match` header names. FHIR uses weak ETags (`W/"3"`); a strong or bare form
 * (`"3"`, `3`) is read the same way, since clients send all three.
 */
export function parseIfMatch(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*(?:W\/)?"?([^"\s]+)"?\s*$/.exec(header);
  if (!match) {
    throw new FhirError(400, { code: 'invalid', diagnostics: `If-Match must name one version, such as W/"3" (got ${header})` });
  }
  return match[1];
}

/** ETag, Last-Modified and Location (when given) headers for a stored version of a resource. */
export function versionHeaders(resource: Resource, location?: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (resource.meta?.versionId) headers.ETag = etag(resource.meta.versionId);
  if (resource.meta?.lastUpdated) headers['Last-Modified'] = new Date(resource.meta.lastUpdated).toUTCString();
  if (location) headers.Location = location;
  return headers;
}

export function versionUrl(baseUrl: string, resource: Resource): string {
  return `${baseUrl}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}`;
}
