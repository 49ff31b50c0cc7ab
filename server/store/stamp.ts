import type { Resource } from 'fhir/r4';

/** The resource as stored: server-owned id, meta.versionId and meta.lastUpdated; every other meta element kept. */
export function stamp(resource: Resource, id: string, versionId: number, lastUpdated: Date): Resource {
  const { resourceType, id: _ignored, meta, ...rest } = resource;
  return {
    resourceType,
    id,
    ...rest,
    meta: { ...meta, versionId: String(versionId), lastUpdated: lastUpdated.toISOString() },
  } as Resource;
}
