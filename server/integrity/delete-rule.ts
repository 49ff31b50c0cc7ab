import type { Caller } from '../access/caller.js';
import { FhirError, type Issue } from '../fhir/outcome.js';
import type { ResourceKey } from '../store/references.js';
import type { ResourceStore } from '../store/resource-store.js';
import { localReferences } from '../search/index/local-references.js';
import { type Integrity, visibilityOf } from './settings.js';

/** A deleted resource, and what to put before the diagnostics (a Bundle entry). */
export interface DeletedTarget extends ResourceKey {
  prefix?: string;
}

/**
 * A resource that current resources refer to cannot be deleted (409), unless DELETE_REFERENCED allows it: the
 * issue names one referrer and its element, one the caller may see; a referrer hidden from a partner by consent is
 * not named. Records (AuditEvent, Provenance) never refer for this purpose (server/search/index/exemptions.ts), nor
 * do resources deleted in the same transaction.
 */
export async function checkUnreferenced(targets: readonly DeletedTarget[], store: ResourceStore, caller: Caller, integrity: Integrity): Promise<void> {
  if (!targets.length) return;
  const referrers = await store.findReferrers(targets, visibilityOf(caller, integrity));
  const issues: Issue[] = referrers.map((referrer) => {
    const target = targets.find((t) => `${t.type}/${t.id}` === referrer.target);
    const element = referrer.element || elementOf(referrer.content, referrer.target);
    const by = referrer.visible ? `${referrer.type}/${referrer.id}${element ? ` (${element})` : ''} refers to it` : 'a resource you cannot see refers to it';
    return { code: 'conflict', diagnostics: `${target?.prefix ?? ''}${referrer.target} cannot be deleted: ${by}; remove the reference first` };
  });
  if (issues.length) throw new FhirError(409, issues);
}

/** The element of a referrer stored before elements were kept (server/store/migrations/006-references.ts). */
function elementOf(content: Parameters<typeof localReferences>[0] | undefined, target: string): string | undefined {
  return content ? localReferences(content).find((ref) => `${ref.type}/${ref.id}` === target)?.expression : undefined;
}
