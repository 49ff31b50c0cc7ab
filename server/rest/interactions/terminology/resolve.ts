import type { CodeSystem, ValueSet } from 'fhir/r4';
import { notFound } from '../../../fhir/outcome.js';
import type { FhirContext, RouteParams } from '../../types.js';
import { parseSearch } from '../../../search/query/parse.js';

type Terminological = ValueSet | CodeSystem;

/** An operation defined on `type` only (R4: $expand on ValueSet, $lookup on CodeSystem): on any other, not found. */
export function onType(params: RouteParams, type: Terminological['resourceType'], operation: string): void {
  if (params.type !== type) throw notFound(`${operation} is defined on ${type} only, not on ${params.type}`);
}

/** `[type]/[id]`: the stored resource an instance-level operation works on (the guide's, seeded, or a client's). */
export async function storedInstance<T extends Terminological>(context: FhirContext, type: T['resourceType'], id: string): Promise<T> {
  const read = await context.store.read(type, id);
  if (read.kind !== 'found') throw notFound(`${type}/${id} is not known`);
  return read.resource as T;
}

/**
 * A ValueSet or CodeSystem stored on this server with canonical `url` (`|version` allowed), for one the definitions
 * do not hold: a client may have written its own. The newest match wins if several share the URL.
 */
export async function storedByUrl<T extends Terminological>(context: FhirContext, type: T['resourceType'], canonical: string): Promise<T | undefined> {
  const [url, version] = canonical.split('|');
  const query = parseSearch({ url: [url], ...(version ? { version: [version] } : {}), _sort: ['-_lastUpdated'] }, [type], context.registry, { defaultCount: 1, maxCount: 1 });
  query.total = 'none';
  const page = await context.store.search(query);
  return page.resources[0] as T | undefined;
}
