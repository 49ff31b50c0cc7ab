import type { AuditEvent, Meta, Resource } from 'fhir/r4';
import type { SearchParameterRegistry } from '../registry.js';
import { emptyIndexRows, type IndexRows } from '../types.js';
import { toDates } from './date.js';
import { referenceType, toReferences } from './reference.js';
import { toStrings } from './string.js';
import { toTokens } from './token.js';
import { UniqueRows } from './unique.js';
import { toUris } from './uri.js';
import type { Converter, FhirValue } from './values.js';

/**
 * The index rows of an AuditEvent the server built itself (server/audit: REST, sign-in, token and credential
 * events), read straight from its elements: the events of reads are written at the rate of reads, and evaluating
 * the R4 SearchParameters' FHIRPath for each cost ~8 % of the server's CPU under read load. Each parameter below
 * is its R4 expression by hand; test/audit/event-index.test.ts checks that they give exactly the rows the FHIRPath
 * extractor gives, over the events the server builds and the official R4 AuditEvent examples. Events POSTed by
 * clients, and every event when custom SearchParameters on AuditEvent are loaded, take the FHIRPath path.
 */
const PARAMETERS: Record<string, { type: 'token' | 'string' | 'reference' | 'date' | 'uri'; expression: string; select: (e: AuditEvent) => FhirValue[] }> = {
  _profile: { type: 'uri', expression: 'Resource.meta.profile', select: (e) => each('canonical', metaOf(e)?.profile) },
  _security: { type: 'token', expression: 'Resource.meta.security', select: (e) => each('Coding', metaOf(e)?.security) },
  _source: { type: 'uri', expression: 'Resource.meta.source', select: (e) => each('uri', metaOf(e)?.source) },
  _tag: { type: 'token', expression: 'Resource.meta.tag', select: (e) => each('Coding', metaOf(e)?.tag) },
  action: { type: 'token', expression: 'AuditEvent.action', select: (e) => each('code', e.action) },
  address: { type: 'string', expression: 'AuditEvent.agent.network.address', select: (e) => agents(e).flatMap((a) => each('string', a.network?.address)) },
  agent: { type: 'reference', expression: 'AuditEvent.agent.who', select: (e) => agents(e).flatMap((a) => each('Reference', a.who)) },
  'agent-name': { type: 'string', expression: 'AuditEvent.agent.name', select: (e) => agents(e).flatMap((a) => each('string', a.name)) },
  'agent-role': { type: 'token', expression: 'AuditEvent.agent.role', select: (e) => agents(e).flatMap((a) => each('CodeableConcept', a.role)) },
  altid: { type: 'token', expression: 'AuditEvent.agent.altId', select: (e) => agents(e).flatMap((a) => each('string', a.altId)) },
  date: { type: 'date', expression: 'AuditEvent.recorded', select: (e) => each('instant', e.recorded) },
  entity: { type: 'reference', expression: 'AuditEvent.entity.what', select: (e) => entities(e).flatMap((x) => each('Reference', x.what)) },
  'entity-name': { type: 'string', expression: 'AuditEvent.entity.name', select: (e) => entities(e).flatMap((x) => each('string', x.name)) },
  'entity-role': { type: 'token', expression: 'AuditEvent.entity.role', select: (e) => entities(e).flatMap((x) => each('Coding', x.role)) },
  'entity-type': { type: 'token', expression: 'AuditEvent.entity.type', select: (e) => entities(e).flatMap((x) => each('Coding', x.type)) },
  outcome: { type: 'token', expression: 'AuditEvent.outcome', select: (e) => each('code', e.outcome) },
  patient: {
    type: 'reference',
    expression: 'AuditEvent.agent.who.where(resolve() is Patient) | AuditEvent.entity.what.where(resolve() is Patient)',
    select: (e) =>
      [...agents(e).flatMap((a) => each('Reference', a.who)), ...entities(e).flatMap((x) => each('Reference', x.what))].filter(
        (value) => referenceType(value) === 'Patient',
      ),
  },
  policy: { type: 'uri', expression: 'AuditEvent.agent.policy', select: (e) => agents(e).flatMap((a) => each('uri', a.policy)) },
  site: { type: 'token', expression: 'AuditEvent.source.site', select: (e) => each('string', e.source?.site) },
  source: { type: 'reference', expression: 'AuditEvent.source.observer', select: (e) => each('Reference', e.source?.observer) },
  subtype: { type: 'token', expression: 'AuditEvent.subtype', select: (e) => each('Coding', e.subtype) },
  type: { type: 'token', expression: 'AuditEvent.type', select: (e) => each('Coding', e.type) },
};

/** Answered from the row itself, as the FHIRPath extractor does (extract.ts). */
const ANSWERED_BY_COLUMNS = new Set(['_id', '_lastUpdated']);

/** The events the server built, as the objects it built: only these take the hand path. */
const built = new WeakSet<object>();

/** Marks an event the server built (its shape is the server's own), so that its index is computed by hand. */
export function serverBuilt<T extends AuditEvent>(event: T): T {
  built.add(event);
  return event;
}

/** The stored copy of a built event (server/store/stamp.ts makes one) is built too. */
export function builtAlike(original: object, copy: object): void {
  if (built.has(original)) built.add(copy);
}

export function isServerBuilt(resource: object): boolean {
  return built.has(resource);
}

/** Whether the registry's AuditEvent parameters are exactly the ones above (no custom SearchParameter on it). */
const official = new WeakMap<SearchParameterRegistry, boolean>();
export function handIndexApplies(registry: SearchParameterRegistry): boolean {
  let applies = official.get(registry);
  if (applies === undefined) {
    const indexed = registry.forType('AuditEvent').filter((d) => d.type !== 'special' && d.expression && !ANSWERED_BY_COLUMNS.has(d.code));
    applies =
      indexed.length === Object.keys(PARAMETERS).length &&
      indexed.every((d) => PARAMETERS[d.code]?.expression === d.expression && PARAMETERS[d.code].type === d.type);
    official.set(registry, applies);
  }
  return applies;
}

const CONVERTERS = { token: toTokens, string: toStrings, reference: toReferences, date: toDates, uri: toUris } as const;

/** The index rows of an AuditEvent, by hand: what extractIndexRows gives it under the official parameters. */
export function auditEventIndexRows(event: AuditEvent): IndexRows {
  const rows = emptyIndexRows();
  for (const [param, definition] of Object.entries(PARAMETERS)) {
    const values = definition.select(event);
    if (!values.length) continue;
    const table = rows[definition.type] as { param: string }[];
    const convert = CONVERTERS[definition.type] as Converter<object>;
    const unique = new UniqueRows<object>();
    for (const value of values) for (const row of convert(value) ?? []) unique.add(row);
    for (const row of unique.rows) table.push({ param, ...row });
  }
  return rows;
}

function agents(event: AuditEvent): NonNullable<AuditEvent['agent']> {
  return Array.isArray(event.agent) ? event.agent : [];
}

function entities(event: AuditEvent): NonNullable<AuditEvent['entity']> {
  return Array.isArray(event.entity) ? event.entity : [];
}

function metaOf(resource: Resource): Meta | undefined {
  return resource.meta;
}

/** The items of an element, one or repeated, as FHIRPath selects them: absent and null items select nothing. */
function each(type: string, data: unknown): FhirValue[] {
  if (data === undefined || data === null) return [];
  const items = Array.isArray(data) ? data : [data];
  return items.filter((item) => item !== undefined && item !== null).map((item) => ({ type, data: item, node: undefined }));
}
