import type { Resource } from 'fhir/r4';
import type { LinkRow } from '../types.js';
import { RECORD_TYPES } from './exemptions.js';
import { localReferences } from './local-references.js';

/**
 * What a resource refers to on this server, kept beside its search index (`resource_link`) so that a delete can
 * ask, by index, whether anything current still refers to its target. Only relative references are kept: the
 * store does not know the server's base URL, so an absolute one to this server is checked on write but holds no
 * delete back (docs/DEVIATIONS.md). Records (AuditEvent, Provenance) keep none: they never hold a delete back.
 */
export function linkRows(resource: Resource): LinkRow[] {
  if (RECORD_TYPES.has(resource.resourceType)) return [];
  const seen = new Set<string>();
  const rows: LinkRow[] = [];
  for (const { expression, reference, type, id } of localReferences(resource)) {
    // A resource naming itself cannot hold its own delete back.
    if (reference.includes('://') || (type === resource.resourceType && id === resource.id)) continue;
    const key = `${type}/${id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({ param: expression, targetType: type, targetId: id });
  }
  return rows;
}
