import type { Resource } from 'fhir/r4';
import { isDeepStrictEqual } from 'node:util';
import { parseSearch } from '../search/query/parse.js';
import type { SearchParameterRegistry } from '../search/registry.js';
import type { ResourceStore } from './resource-store.js';
import { conformanceGuide, GUIDE_TYPES, type Guide } from '../conformance/guide.js';

export interface SeedResult {
  /** `Type/id` of each guide resource written because it was absent (or deleted), or differed. */
  created: string[];
  updated: string[];
  /** Resources under the guide's canonical base that the guide no longer has, deleted. */
  retired: string[];
}

/** Any constant works; every process sharing the database uses the same key. */
const SEED_LOCK = 'conformance-guide-seed';
/** Far more than the guide will ever hold; a stale resource past it waits for the next start. */
const MAX_STORED = 1000;

/**
 * Puts the guide's conformance resources (ImplementationGuide, StructureDefinitions, ValueSets, CodeSystems) in the
 * store, so they are read and searched like any resource. Idempotent: a resource is written only when it is absent
 * or its content (without `meta`) differs from the stored current version, so a restart writes nothing and a new
 * release writes one new version of what changed. Resources of those types under the guide's canonical base that
 * the guide no longer has are deleted (their history stays): nobody else can have written them, since the guide
 * owns its canonical base (server/conformance/guide-write-rule.ts).
 *
 * Several processes may start at once on one database: whoever finds work to do takes an advisory lock and looks
 * again under it, so each change is written once. A start that finds everything current takes no lock.
 */
export async function seedGuide(store: ResourceStore, registry: SearchParameterRegistry, guide: Guide = conformanceGuide()): Promise<SeedResult> {
  const nothing: SeedResult = { created: [], updated: [], retired: [] };
  if (!(await hasWork(store, registry, guide))) return nothing;
  return store.transaction(async (tx) => {
    await tx.lock(SEED_LOCK);
    const result: SeedResult = { created: [], updated: [], retired: [] };
    for (const resource of await outOfDate(tx, guide)) {
      const written = await tx.update(resource, { allowCreate: true });
      if (written.kind !== 'created' && written.kind !== 'updated') throw new Error(`${key(resource)}: the guide resource could not be written (${written.kind})`);
      result[written.kind].push(key(resource));
    }
    for (const stale of await staleResources(tx, registry, guide)) {
      await tx.delete(stale.resourceType, stale.id!);
      result.retired.push(key(stale));
    }
    return result;
  });
}

async function hasWork(store: ResourceStore, registry: SearchParameterRegistry, guide: Guide): Promise<boolean> {
  return (await outOfDate(store, guide)).length > 0 || (await staleResources(store, registry, guide)).length > 0;
}

/** The guide's resources whose stored current version is missing or has other content. */
async function outOfDate(store: ResourceStore, guide: Guide): Promise<Array<Resource & { id: string }>> {
  const pending: Array<Resource & { id: string }> = [];
  for (const resource of guide.resources) {
    const found = await store.read(resource.resourceType, resource.id);
    if (found.kind !== 'found' || !sameContent(found.resource, resource)) pending.push(resource);
  }
  return pending;
}

/** Stored resources of the guide's types whose canonical URL is under the guide's base but which the guide lacks. */
async function staleResources(store: ResourceStore, registry: SearchParameterRegistry, guide: Guide): Promise<Resource[]> {
  const query = parseSearch({ 'url:below': [`${guide.canonical}/`] }, [...GUIDE_TYPES], registry, { defaultCount: MAX_STORED, maxCount: MAX_STORED });
  query.total = 'none';
  const page = await store.search(query);
  return page.resources.filter((resource) => !guide.has(resource.resourceType, resource.id!));
}

/**
 * Equal apart from `meta` (the store's version and time stamps), whatever the key order: PostgreSQL's jsonb keeps
 * keys in its own order.
 */
function sameContent(stored: Resource, wanted: Resource): boolean {
  const { meta: _stored, ...a } = stored;
  const { meta: _wanted, ...b } = wanted;
  return isDeepStrictEqual(a, b);
}

const key = (resource: Resource) => `${resource.resourceType}/${resource.id}`;
