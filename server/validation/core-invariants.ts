import type { Issue } from '../fhir/outcome.js';

/**
 * The DomainResource invariants on contained resources (dom-2, dom-4, dom-5). They hold for every resource
 * type, so they are checked here rather than left to profile validation.
 */
export function checkContainedInvariants(resource: Record<string, unknown>, location: string): Issue[] {
  const contained = resource.contained;
  if (!Array.isArray(contained)) return [];
  const issues: Issue[] = [];
  contained.forEach((item: unknown, i) => {
    if (!item || typeof item !== 'object') return;
    const inner = item as { contained?: unknown; meta?: { versionId?: unknown; lastUpdated?: unknown; security?: unknown } };
    const path = `${location}.contained[${i}]`;
    const fail = (key: string, diagnostics: string) =>
      issues.push({ code: 'invariant', diagnostics: `${key}: ${diagnostics}`, expression: [path] });
    if (inner.contained !== undefined) fail('dom-2', 'a contained resource must not contain other resources');
    if (inner.meta?.versionId !== undefined || inner.meta?.lastUpdated !== undefined) {
      fail('dom-4', 'a contained resource must not have meta.versionId or meta.lastUpdated');
    }
    if (inner.meta?.security !== undefined) fail('dom-5', 'a contained resource must not have a security label');
  });
  return issues;
}
