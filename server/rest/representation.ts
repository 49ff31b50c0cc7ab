import type { Coding, Resource } from 'fhir/r4';
import { badRequest } from '../fhir/outcome.js';
import type { ElementInfo } from '../fhir/r4/element-info.js';
import { R4_ELEMENTS } from '../fhir/r4/elements.generated.js';

type Json = Record<string, unknown>;

const SUBSETTED: Coding = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
  code: 'SUBSETTED',
  display: 'subsetted',
};

const SUMMARY_MODES = ['true', 'false', 'text', 'data', 'count'] as const;
type SummaryMode = (typeof SUMMARY_MODES)[number];

/**
 * Applies `_summary` and `_elements` to a resource returned by read or vread. `_elements` wins when both are
 * given. A subset is tagged SUBSETTED, as the specification requires, so it is never mistaken for the whole.
 */
export function shapeResource(resource: Resource, query: Record<string, string[]>): Resource {
  const elements = query._elements;
  if (elements?.length) return selectElements(resource, elements.flatMap((v) => v.split(',')));
  const summary = query._summary?.[0];
  if (summary === undefined) return resource;
  if (!SUMMARY_MODES.includes(summary as SummaryMode)) {
    throw badRequest(`_summary must be one of ${SUMMARY_MODES.join(', ')} (got ${summary})`, ['_summary']);
  }
  return summarize(resource, summary as SummaryMode);
}

function summarize(resource: Resource, mode: SummaryMode): Resource {
  const info = R4_ELEMENTS[resource.resourceType];
  switch (mode) {
    case 'false':
      return resource;
    case 'count':
      throw badRequest('_summary=count applies to searches, not to reading one resource', ['_summary']);
    case 'data': {
      const { text: _text, ...rest } = resource as Resource & { text?: unknown };
      return tagSubsetted(rest as Resource);
    }
    case 'text': {
      const keep = new Set(['resourceType', 'id', 'meta', 'text', ...(info?.mandatory ?? [])]);
      return tagSubsetted(pick(resource as unknown as Json, (name) => keep.has(name)) as unknown as Resource);
    }
    case 'true':
      return tagSubsetted(info ? (summaryOf(resource as unknown as Json, '', info) as unknown as Resource) : resource);
  }
}

/** Keeps the elements marked isSummary; inside a backbone element, only its summary children. */
function summaryOf(node: Json, prefix: string, info: ElementInfo): Json {
  return Object.fromEntries(
    Object.entries(node).flatMap(([name, value]) => {
      if (name === 'resourceType') return [[name, value]];
      const element = elementPath(prefix, name, info);
      if (!element || !info.summary.includes(element)) return [];
      if (!info.backbone.includes(element)) return [[name, value]];
      // A backbone element none of whose summary children are present is left out: FHIR JSON has no empty objects.
      const inner = (item: unknown) => summaryOf(item as Json, element, info);
      const kept = (Array.isArray(value) ? value.map(inner) : [inner(value)]).filter((item) => Object.keys(item).length);
      if (!kept.length) return [];
      return [[name, Array.isArray(value) ? kept : kept[0]]];
    }),
  );
}

/**
 * The element definition path a JSON property belongs to: `valueQuantity` → `value[x]`, and a primitive's
 * `_name` companion → `name`.
 */
function elementPath(prefix: string, property: string, info: ElementInfo): string | undefined {
  const name = property.startsWith('_') ? property.slice(1) : property;
  const direct = prefix ? `${prefix}.${name}` : name;
  if (info.summary.includes(direct) || info.backbone.includes(direct)) return direct;
  const choice = info.choice.find((path) => {
    const stem = prefix ? path.slice(prefix.length + 1) : path;
    return (!prefix || path.startsWith(`${prefix}.`)) && !stem.includes('.') && isChoiceOf(name, stem);
  });
  return choice ? `${choice}[x]` : direct;
}

function selectElements(resource: Resource, requested: string[]): Resource {
  const type = resource.resourceType;
  const names = requested
    .map((raw) => raw.trim())
    .filter(Boolean)
    .map((raw) => (raw.startsWith(`${type}.`) ? raw.slice(type.length + 1) : raw));
  const info = R4_ELEMENTS[type];
  const keep = new Set(['resourceType', 'id', 'meta', ...(info?.mandatory ?? []), ...names]);
  // `_elements=value` asks for `valueQuantity`, `valueString`…: a choice element under whichever type it has.
  const choices = (info?.choice ?? []).filter((c) => keep.has(c));
  const kept = (property: string) => {
    const name = property.replace(/^_/, '');
    return keep.has(name) || choices.some((c) => isChoiceOf(name, c));
  };
  return tagSubsetted(pick(resource as unknown as Json, kept) as unknown as Resource);
}

/** `valueQuantity` is the choice element `value[x]` with type Quantity. */
function isChoiceOf(property: string, stem: string): boolean {
  return property.length > stem.length && property.startsWith(stem) && /^[A-Z]/.test(property[stem.length]);
}

function pick(node: Json, keep: (name: string) => boolean): Json {
  return Object.fromEntries(Object.entries(node).filter(([name]) => keep(name)));
}

function tagSubsetted(resource: Resource): Resource {
  const tags = resource.meta?.tag ?? [];
  if (tags.some((t) => t.code === SUBSETTED.code && t.system === SUBSETTED.system)) return resource;
  return { ...resource, meta: { ...resource.meta, tag: [...tags, SUBSETTED] } };
}

/**
 * The resource with resourceType, id and meta first, as people expect to read FHIR JSON (the JSONB store
 * returns keys in its own order; JSON object order carries no meaning).
 */
export function inReadingOrder<T extends { resourceType: string }>(resource: T): T {
  if (isInReadingOrder(resource)) return resource;
  const { resourceType, id, meta, ...rest } = resource as T & { id?: unknown; meta?: unknown };
  return { resourceType, ...(id !== undefined ? { id } : {}), ...(meta !== undefined ? { meta } : {}), ...rest } as unknown as T;
}

/**
 * Whether the first keys already are resourceType, then id and meta where present: then `inReadingOrder` would
 * copy the resource for nothing (what an interaction built itself, a Bundle, an OperationOutcome).
 */
function isInReadingOrder(resource: object): boolean {
  const wanted = ['resourceType', 'id', 'meta'].filter((key) => key === 'resourceType' || (resource as Record<string, unknown>)[key] !== undefined);
  let index = 0;
  for (const key in resource) {
    if (index === wanted.length) return true;
    if (key !== wanted[index]) return false;
    index++;
  }
  return index === wanted.length;
}
