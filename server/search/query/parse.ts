import { badRequest } from '../../fhir/outcome.js';
import { isResourceType } from '../../fhir/resource-types.js';
import type { SearchParameterRegistry } from '../registry.js';
import type { SearchParamDefinition } from '../../fhir/r4/search-parameter.js';
import { splitUnescaped } from './escape.js';
import type { Cursor, Filter, Include, SearchQuery, SortKey, ValueFilter } from './model.js';
import { parseValue } from './values.js';

/** Parameters about the response, not the match; `_format`/`_pretty` belong to the transport. */
const RESULT_PARAMETERS = new Set(['_count', '_total', '_summary', '_elements', '_cursor', '_format', '_pretty', '_type', '_sort']);
const INCLUDES = new Set(['_include', '_include:iterate', '_include:recurse', '_revinclude', '_revinclude:iterate', '_revinclude:recurse']);
/** Recognised but not yet implemented: reported as ignored (or refused with handling=strict), never silently. */
const NOT_YET = new Set(['_contained', '_containedType', '_text', '_content', '_query', '_filter']);

const MODIFIERS: Record<string, ReadonlySet<string>> = {
  string: new Set(['exact', 'contains', 'missing']),
  token: new Set(['text', 'not', 'of-type', 'missing']),
  reference: new Set(['identifier', 'missing']),
  uri: new Set(['below', 'above', 'missing']),
  date: new Set(['missing']),
  number: new Set(['missing']),
  quantity: new Set(['missing']),
  composite: new Set(['missing']),
};

export interface ParseOptions {
  defaultCount: number;
  maxCount: number;
  /** This server's FHIR base URL, so that its own absolute references count as local ones. */
  baseUrl?: string;
}

/** What reading one parameter needs besides the parameter itself. */
interface Context {
  registry: SearchParameterRegistry;
  baseUrl?: string;
}

/** A parameter the server knows it cannot use: ignored and reported, unlike a malformed one (a 400). */
class Ignored {
  constructor(readonly reason: string) {}
}

/**
 * Reads the parameters of a search of `resourceTypes` into a SearchQuery. A malformed value or an unknown
 * modifier is a 400; a parameter the server does not know is ignored and listed in `ignored`.
 */
export function parseSearch(
  query: Record<string, string[]>,
  resourceTypes: string[],
  registry: SearchParameterRegistry,
  options: ParseOptions,
): SearchQuery {
  const filters: Filter[] = [];
  const ignored: SearchQuery['ignored'] = [];
  const context: Context = { registry, baseUrl: options.baseUrl };
  for (const [name, values] of Object.entries(query)) {
    if (RESULT_PARAMETERS.has(name) || INCLUDES.has(name)) continue;
    if (NOT_YET.has(name.split(':')[0])) {
      ignored.push({ name, reason: 'not supported yet' });
      continue;
    }
    if (name === '_list') {
      for (const value of values) filters.push(parseList(value));
      continue;
    }
    for (const value of values) {
      const filter = parseParameter(name, name, value, resourceTypes, context);
      if (filter instanceof Ignored) {
        ignored.push({ name, reason: filter.reason });
        break;
      }
      filters.push(filter);
    }
  }
  return {
    resourceTypes,
    filters,
    count: parseCount(query._count?.[0], options),
    total: parseTotal(query._total?.[0]),
    summary: query._summary?.[0],
    elements: query._elements?.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean),
    cursor: parseCursor(query._cursor?.[0]),
    sort: parseSort(query._sort, resourceTypes, registry),
    include: includesOf(query, '_include', registry),
    revinclude: includesOf(query, '_revinclude', registry),
    ignored,
  };
}

/** `_include[:iterate]=Source:param[:Target]`, `Source:*` for every reference parameter. */
function includesOf(query: Record<string, string[]>, name: '_include' | '_revinclude', registry: SearchParameterRegistry): Include[] {
  const includes: Include[] = [];
  for (const [key, values] of Object.entries(query)) {
    if (key !== name && !key.startsWith(`${name}:`)) continue;
    // R4 still accepts the STU3 spelling :recurse for :iterate.
    const iterate = key.endsWith(':iterate') || key.endsWith(':recurse');
    for (const value of values) {
      const [sourceType, param, targetType, ...extra] = value.split(':');
      const invalid = (why: string) => badRequest(`${key}=${value}: ${why}`, [key]);
      if (extra.length || !param) throw invalid('write it as SourceType:parameter[:TargetType]');
      if (!isResourceType(sourceType)) throw invalid(`${sourceType} is not a resource type`);
      if (targetType !== undefined && !isResourceType(targetType)) throw invalid(`${targetType} is not a resource type`);
      if (param !== '*') {
        const definition = registry.get(sourceType, param);
        if (!definition || definition.type !== 'reference') throw invalid(`${param} is not a reference parameter of ${sourceType}`);
      }
      includes.push({ sourceType, param: param === '*' ? undefined : param, targetType, iterate });
    }
  }
  return includes;
}

/** `_list=a,b`: List ids (functional lists such as `$current-allergies` are not supported). */
function parseList(value: string): Filter {
  const listIds = splitUnescaped(value, ',');
  const bad = listIds.find((id) => !/^[A-Za-z0-9\-.]{1,64}$/.test(id));
  if (bad !== undefined) throw badRequest(`_list=${value}: ${bad} is not a List id (functional lists are not supported)`, ['_list']);
  return { kind: 'list', listIds };
}

/** `name` is what remains to read of the full parameter name `full` (chains and `_has` nest). */
function parseParameter(full: string, name: string, value: string, types: string[], context: Context): Filter | Ignored {
  const { registry } = context;
  if (name.startsWith('_has:')) return parseHas(full, name, value, types, context);
  const dot = name.indexOf('.');
  if (dot > 0) return parseChain(full, name.slice(0, dot), name.slice(dot + 1), value, types, context);

  const [code, modifier, ...rest] = name.split(':');
  const definition = commonDefinition(registry, types, code);
  if (!definition) return new Ignored(`not a search parameter of ${describe(types)}`);
  if (definition.type === 'special') return new Ignored('special parameters are not supported');
  if (rest.length) throw badRequest(`${full}: a parameter takes one modifier`, [full]);
  checkModifier(definition, modifier, full);
  if (definition.type === 'composite' && modifier !== 'missing') return parseComposite(definition, value, full, context);
  return parseValues(definition, modifier, value, full, context.baseUrl);
}

/** `code-value-quantity=http://loinc.org|8480-6$gt100`: each `$` part read as its component parameter's type. */
function parseComposite(definition: SearchParamDefinition, value: string, name: string, { registry, baseUrl }: Context): ValueFilter {
  const components = (definition.component ?? []).map((c) => registry.get(definition.base, c.code));
  if (!components.length || components.some((c) => !c)) throw badRequest(`${name}: this composite parameter is not usable`, [name]);
  const values = splitUnescaped(value, ',').map((alternative) => {
    const parts = splitUnescaped(alternative, '$');
    if (parts.length !== components.length) {
      throw badRequest(`${name}=${value}: give ${components.length} values separated by $ (${components.map((c) => c!.code).join('$')})`, [name]);
    }
    return { type: 'composite' as const, parts: parts.map((part, i) => parseValue(components[i]!, undefined, part, name, baseUrl)) };
  });
  return { kind: 'value', definition, values };
}

/** `subject:Patient.name`: the reference parameter, then the rest of the name on the target types. */
function parseChain(full: string, head: string, tail: string, value: string, types: string[], context: Context): Filter | Ignored {
  const { registry } = context;
  const [code, typeModifier, ...rest] = head.split(':');
  const definition = commonDefinition(registry, types, code);
  if (!definition) return new Ignored(`${code} is not a search parameter of ${describe(types)}`);
  if (definition.type !== 'reference') throw badRequest(`${full}: only reference parameters can be chained (${code} is ${definition.type})`, [full]);
  if (rest.length || (typeModifier !== undefined && !isResourceType(typeModifier))) {
    throw badRequest(`${full}: a chained parameter takes only a resource type as modifier`, [full]);
  }
  const candidates = typeModifier ? [typeModifier] : (definition.target ?? []);
  // The chain continues on each target type that has the next parameter, with the same meaning.
  const nextCode = tail.split(/[.:]/)[0];
  const targetTypes = candidates.filter((t) => registry.get(t, nextCode));
  if (!targetTypes.length) return new Ignored(`${nextCode} is not a search parameter of the targets of ${code}`);
  const next = parseParameter(full, tail, value, targetTypes, context);
  if (next instanceof Ignored) return next;
  return { kind: 'chain', definition, targetTypes, next };
}

/** `_has:Observation:patient:code=x` (R4 reverse chaining); the rest may itself be `_has:…` or a chain. */
function parseHas(full: string, name: string, value: string, types: string[], context: Context): Filter | Ignored {
  const { registry } = context;
  const [, sourceType, code, ...restParts] = name.split(':');
  const rest = restParts.join(':');
  if (!sourceType || !code || !rest) throw badRequest(`${full}: _has takes the form _has:Type:reference:parameter`, [full]);
  if (!isResourceType(sourceType)) throw badRequest(`${full}: ${sourceType} is not a resource type`, [full]);
  const definition = registry.get(sourceType, code);
  if (!definition || definition.type !== 'reference') throw badRequest(`${full}: ${code} is not a reference parameter of ${sourceType}`, [full]);
  if (definition.target && !types.some((t) => definition.target!.includes(t))) {
    throw badRequest(`${full}: ${sourceType}.${code} cannot refer to ${describe(types)}`, [full]);
  }
  const next = parseParameter(full, rest, value, [sourceType], context);
  if (next instanceof Ignored) return next;
  return { kind: 'has', sourceType, definition, next };
}

function parseValues(definition: SearchParamDefinition, modifier: string | undefined, value: string, name: string, baseUrl?: string): ValueFilter {
  if (modifier === 'missing') {
    if (value !== 'true' && value !== 'false') throw badRequest(`${name} takes true or false (got ${value})`, [name]);
    return { kind: 'value', definition, modifier, values: [{ type: 'missing', missing: value === 'true' }] };
  }
  const alternatives = splitUnescaped(value, ',');
  if (alternatives.some((v) => v === '')) throw badRequest(`${name}=${value}: empty value`, [name]);
  return { kind: 'value', definition, modifier, values: alternatives.map((v) => parseValue(definition, modifier, v, name, baseUrl)) };
}

function checkModifier(definition: SearchParamDefinition, modifier: string | undefined, name: string): void {
  if (modifier === undefined) return;
  const allowed = MODIFIERS[definition.type];
  const isTypeModifier = definition.type === 'reference' && isResourceType(modifier) && (!definition.target || definition.target.includes(modifier));
  if (allowed?.has(modifier) || isTypeModifier) return;
  throw badRequest(`${name}: the modifier :${modifier} is not supported on ${definition.type} parameters`, [name]);
}

/** In a search over several types, a parameter must mean the same (same type) in each. */
function commonDefinition(registry: SearchParameterRegistry, types: string[], code: string): SearchParamDefinition | undefined {
  const definitions = types.map((type) => registry.get(type, code));
  const first = definitions[0];
  if (!first || definitions.some((d) => !d || d.type !== first.type)) return undefined;
  return first;
}

function describe(types: string[]): string {
  return types.length === 1 ? types[0] : 'every type searched';
}

function parseCount(raw: string | undefined, options: ParseOptions): number {
  if (raw === undefined) return options.defaultCount;
  if (!/^\d+$/.test(raw)) throw badRequest(`_count must be a whole number (got ${raw})`, ['_count']);
  return Math.min(Number(raw), options.maxCount);
}

function parseTotal(raw: string | undefined): SearchQuery['total'] {
  if (raw === undefined) return 'accurate';
  if (raw === 'none' || raw === 'estimate' || raw === 'accurate') return raw;
  throw badRequest(`_total must be none, estimate or accurate (got ${raw})`, ['_total']);
}

/** `_sort=status,-date` (R4): keys in order, `-` for descending. */
function parseSort(values: string[] | undefined, types: string[], registry: SearchParameterRegistry): SortKey[] {
  const keys = (values ?? []).flatMap((v) => v.split(',')).map((k) => k.trim()).filter(Boolean);
  return keys.map((key) => {
    const descending = key.startsWith('-');
    const code = descending ? key.slice(1) : key;
    const definition = commonDefinition(registry, types, code);
    if (!definition) throw badRequest(`_sort: ${code} is not a search parameter of ${describe(types)}`, ['_sort']);
    if (definition.type === 'composite' || definition.type === 'special') {
      throw badRequest(`_sort: ${definition.type} parameters cannot be sorted by`, ['_sort']);
    }
    return { definition, descending };
  });
}

/** Cursors travel in links as `n.<rid>` / `p.<rid>`, plus `.<base64url of the sort values>` in a sorted search. */
export function formatCursor(cursor: Cursor): string {
  const head = `${cursor.direction === 'next' ? 'n' : 'p'}.${cursor.rid}`;
  return cursor.keys ? `${head}.${Buffer.from(JSON.stringify(cursor.keys)).toString('base64url')}` : head;
}

function parseCursor(raw: string | undefined): Cursor | undefined {
  if (raw === undefined) return undefined;
  const invalid = () => badRequest('_cursor is not a cursor this server issued: follow the Bundle links', ['_cursor']);
  const m = /^([np])\.(\d{1,19})(?:\.([A-Za-z0-9_-]+))?$/.exec(raw);
  if (!m) throw invalid();
  const cursor: Cursor = { direction: m[1] === 'n' ? 'next' : 'previous', rid: m[2] };
  if (m[3] !== undefined) {
    let keys: unknown;
    try {
      keys = JSON.parse(Buffer.from(m[3], 'base64url').toString('utf8'));
    } catch {
      throw invalid();
    }
    if (!Array.isArray(keys) || keys.some((k) => k !== null && typeof k !== 'string')) throw invalid();
    cursor.keys = keys as (string | null)[];
  }
  return cursor;
}
