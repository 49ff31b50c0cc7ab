import type { Bundle, BundleEntry, Resource } from 'fhir/r4';
import { FhirError, notFound, operationOutcome } from '../../fhir/outcome.js';
import { R4_COMPARTMENTS } from '../../fhir/r4/compartments.generated.js';
import type { SearchQuery } from '../../search/query/model.js';
import { RESOURCE_TYPES } from '../../fhir/resource-types.js';
import { formatCursor, parseSearch } from '../../search/query/parse.js';
import { linkTo } from '../paging.js';
import type { Caller } from '../../access/caller.js';
import { consentGateFor } from '../../access/consent-gate.js';
import { rowAccess } from '../../access/search-access.js';
import type { SearchParameterRegistry } from '../../search/registry.js';
import { inReadingOrder, shapeResource } from '../representation.js';
import type { FhirRequest, Interaction } from '../types.js';

/**
 * `GET [base]/[type]?…`, `POST [base]/[type]/_search`, and across types `GET [base]?_type=…` and
 * `POST [base]/_search`: a `searchset` Bundle of matches, paged by keyset cursors in the links.
 */
export const search: Interaction = async (request, { type, id, member }, { store, registry, options }) => {
  const compartment = member !== undefined ? compartmentOf(type!, id!, member) : undefined;
  const candidates = compartment ? Object.keys(compartment.params) : type ? [type] : systemTypes(request.query._type);
  // Types the request names must all be allowed; a search of every type (or `Patient/1/*`) keeps the allowed ones.
  const named = (member !== undefined && member !== '*') || (member === undefined && (type !== undefined || request.query._type !== undefined));
  const reach = rowAccess(request.caller, candidates, 's', registry, named);
  const query = parseSearch(request.query, reach.types, registry, {
    defaultCount: options.defaultPageSize,
    maxCount: options.maxPageSize,
    baseUrl: request.baseUrl,
  });
  query.compartment = compartment && { ...compartment, params: Object.fromEntries(reach.types.map((t) => [t, compartment.params[t]])) };
  query.access = reach.access;
  query.consent = consentGateFor(request.caller, 's', options);
  if (query.include.length || query.revinclude.length) query.includeAccess = includeReach(request.caller, registry);
  if (query.ignored.length && /(^|[;,\s])handling\s*=\s*strict/.test(request.headers.prefer ?? '')) {
    throw new FhirError(
      400,
      query.ignored.map(({ name, reason }) => ({ code: 'not-supported' as const, diagnostics: `${name}: ${reason}`, expression: [name] })),
    );
  }
  if (query.summary === 'count') query.count = 0;

  const page = await store.search(query);
  // Links are GET URLs on the type (or the base), whichever way the search came, without the ignored parameters.
  const linked: FhirRequest = {
    ...request,
    path: compartment ? `${type}/${id}/${member}` : (type ?? ''),
    query: Object.fromEntries(Object.entries(request.query).filter(([name]) => !query.ignored.some((i) => i.name === name))),
  };
  const link: Bundle['link'] = [{ relation: 'self', url: linkTo(linked) }];
  if (page.previous) link.push({ relation: 'previous', url: linkTo(linked, { _cursor: formatCursor(page.previous) }) });
  if (page.next) link.push({ relation: 'next', url: linkTo(linked, { _cursor: formatCursor(page.next) }) });

  const shaping = shapingOf(query);
  const entryOf = (resource: Resource, mode: 'match' | 'include'): BundleEntry => ({
    fullUrl: `${request.baseUrl}/${resource.resourceType}/${resource.id}`,
    resource: inReadingOrder(shapeResource(resource, shaping)),
    search: { mode },
  });
  const entry: BundleEntry[] = [
    ...page.resources.map((resource) => entryOf(resource, 'match')),
    ...page.included.map((resource) => entryOf(resource, 'include')),
  ];
  if (query.ignored.length) {
    entry.push({
      resource: operationOutcome(
        query.ignored.map(({ name, reason }) => ({ severity: 'warning', code: 'not-supported', diagnostics: `${name} was ignored: ${reason}`, expression: [name] })),
      ),
      search: { mode: 'outcome' },
    });
  }
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(page.total !== undefined ? { total: page.total } : {}),
    link,
    ...(entry.length ? { entry } : {}),
  };
  return { status: 200, body: bundle };
};

/** What includes may bring in: the types the caller may read, with their restrictions. */
function includeReach(caller: Caller, registry: SearchParameterRegistry): SearchQuery['includeAccess'] {
  if (caller.kind === 'unrestricted') return undefined;
  try {
    return rowAccess(caller, RESOURCE_TYPES, 'r', registry, false);
  } catch {
    return { types: [] };
  }
}

function shapingOf(query: { summary?: string; elements?: string[] }): Record<string, string[]> {
  const shaping: Record<string, string[]> = {};
  if (query.elements?.length) shaping._elements = query.elements;
  else if (query.summary !== undefined && query.summary !== 'count') shaping._summary = [query.summary];
  return shaping;
}

/** `Patient/123/CarePlan` or `Patient/123/*`, from the official R4 CompartmentDefinitions. */
function compartmentOf(type: string, id: string, member: string): NonNullable<SearchQuery['compartment']> {
  const members = R4_COMPARTMENTS[type];
  if (!members) throw notFound(`${type} does not define a compartment (compartments: ${Object.keys(R4_COMPARTMENTS).join(', ')})`);
  if (member === '*') return { type, id, params: withoutAuditTrail(members) };
  const params = members[member];
  if (!params) throw notFound(`${member} resources are not in the ${type} compartment`);
  return { type, id, params: { [member]: params } };
}

/**
 * The audit trail is the record of searches, not their subject: a search of every type leaves AuditEvents out
 * (otherwise each search would find the records of the searches before it); `_type=AuditEvent` finds them.
 */
const NOT_IN_WIDE_SEARCHES = 'AuditEvent';

function withoutAuditTrail<T>(members: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(members).filter(([type]) => type !== NOT_IN_WIDE_SEARCHES));
}

/** `_type=Patient,Observation` for a system-level search; every type but AuditEvent when absent. */
function systemTypes(values: string[] | undefined): string[] {
  if (!values?.length) return RESOURCE_TYPES.filter((type) => type !== NOT_IN_WIDE_SEARCHES);
  const types = values.flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean);
  const unknown = types.filter((t) => !(RESOURCE_TYPES as readonly string[]).includes(t));
  if (unknown.length) throw new FhirError(400, { code: 'invalid', diagnostics: `_type names unknown resource types: ${unknown.join(', ')}`, expression: ['_type'] });
  // The trail is stored apart from the clinical data (docs/AUDIT.md, "Storage"): one search reads one of them.
  if (types.includes(NOT_IN_WIDE_SEARCHES) && types.some((t) => t !== NOT_IN_WIDE_SEARCHES)) {
    throw new FhirError(400, { code: 'not-supported', diagnostics: '_type=AuditEvent is searched on its own, not with other types', expression: ['_type'] });
  }
  return types;
}
