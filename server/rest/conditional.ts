import type { Resource } from 'fhir/r4';
import { FhirError } from '../fhir/outcome.js';
import { parseQueryText } from '../fhir/query-text.js';
import { parseSearch } from '../search/query/parse.js';
import type { SearchParameterRegistry } from '../search/registry.js';
import type { ResourceStore } from '../store/resource-store.js';

/** Parameters that shape a response, never part of a condition. */
const NOT_CRITERIA = new Set(['_format', '_pretty', '_summary', '_elements']);

/** Search criteria of a conditional interaction, from a header (`identifier=a|b&…`) or the URL's query. */
export function criteriaOf(raw: string | Record<string, string[]>): Record<string, string[]> {
  let query: Record<string, string[]> = {};
  if (typeof raw === 'string') {
    query = parseQueryText(raw.replace(/^.*\?/, ''), 'The condition');
  } else {
    for (const [name, values] of Object.entries(raw)) if (!NOT_CRITERIA.has(name)) query[name] = values;
  }
  if (!Object.keys(query).length) throw new FhirError(400, { code: 'required', diagnostics: 'A conditional interaction needs search criteria' });
  return query;
}

/** The same criteria written in any parameter order name the same lock. */
export function lockKey(type: string, criteria: Record<string, string[]>): string {
  const pairs = Object.entries(criteria).flatMap(([name, values]) => values.map((v) => `${name}=${v}`));
  return `${type}?${pairs.sort().join('&')}`;
}

/**
 * The current resources of `type` that match `criteria`, at most `limit`. Criteria the server cannot apply in
 * full are refused: a condition half understood would match what the client did not mean.
 */
export async function matching(
  store: ResourceStore,
  registry: SearchParameterRegistry,
  type: string,
  criteria: Record<string, string[]>,
  baseUrl: string,
  limit: number,
): Promise<Resource[]> {
  const query = parseSearch(criteria, [type], registry, { defaultCount: limit, maxCount: limit, baseUrl });
  if (query.ignored.length) {
    throw new FhirError(
      400,
      query.ignored.map(({ name, reason }) => ({ code: 'not-supported' as const, diagnostics: `condition ${name}: ${reason}`, expression: [name] })),
    );
  }
  query.total = 'none';
  query.count = limit;
  return (await store.search(query)).resources;
}

/**
 * The id a conditional update writes to: the single match's (a body id must agree with it), else the body's
 * own id, else none (the caller creates with a server id). Several matches are a 412.
 */
export async function conditionalTarget(
  store: ResourceStore,
  registry: SearchParameterRegistry,
  type: string,
  criteria: Record<string, string[]>,
  bodyId: string | undefined,
  baseUrl: string,
): Promise<string | undefined> {
  const found = await matching(store, registry, type, criteria, baseUrl, 2);
  if (found.length > 1) throw new FhirError(412, { code: 'multiple-matches', diagnostics: `The criteria match several ${type} resources` });
  const match = found[0]?.id;
  if (match !== undefined && bodyId !== undefined && bodyId !== match) {
    throw new FhirError(400, { code: 'invalid', diagnostics: `The body's id (${bodyId}) is not the id of the matching resource (${match})`, expression: [`${type}.id`] });
  }
  return match ?? bodyId;
}
