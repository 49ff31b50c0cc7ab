import type { Parameters, ParametersParameter } from 'fhir/r4';
import { isInstant } from '../fhir/date-range.js';
import { badRequest, FhirError } from '../fhir/outcome.js';
import { parseQueryText } from '../fhir/query-text.js';
import { R4_COMPARTMENTS } from '../fhir/r4/compartments.generated.js';
import { isResourceType, isValidId, RESOURCE_TYPES } from '../fhir/resource-types.js';
import type { ExportJob, ExportLevel } from './model.js';

/**
 * A kick-off's parameters (Bulk Data Access 2.0.0, "Query Parameters"), from a GET's query or a POST's `Parameters`
 * body, checked: what is malformed is a 400 naming the parameter in `expression`; what is well formed but not
 * supported here is a 400 too unless the client asked `Prefer: handling=lenient`, which turns it into an issue of
 * the job (the manifest's error file) and leaves it out. Pure: which search parameters a `_typeFilter` may use is
 * asked of `checkFilter`, which the operation gives (server/search/query/parse.ts over the registry).
 */

export type ExportIssue = ExportJob['issues'][number];

/** The three spellings of NDJSON the specification requires a server to accept. */
export const NDJSON_FORMATS = ['application/fhir+ndjson', 'application/ndjson', 'ndjson'] as const;

/** `includeAssociatedData` values: the one supported here, and the specification's other. */
export const LATEST_PROVENANCE = 'LatestProvenanceResources';
const RELEVANT_PROVENANCE = 'RelevantProvenanceResources';

/**
 * AuditEvents are the audit trail, kept apart from the resources (docs/AUDIT.md): never exported. A type the
 * export cannot hold is "not supported" in the specification's sense (strict: 400; lenient: left out).
 */
const NOT_EXPORTED = new Set(['AuditEvent']);

/** Parameters of the request that belong to the transport, not to the operation. */
const TRANSPORT = new Set(['_format', '_pretty']);

/** Search result parameters narrow nothing: a `_typeFilter` is a filter and may not hold them. */
const RESULT_PARAMETERS = /^_(count|total|summary|elements|cursor|format|pretty|type|sort|include|revinclude|contained|containedType)(:|$)/;

export interface KickOffInput {
  level: ExportLevel;
  method: string;
  /** The URL's query (GET: every parameter; POST: only the transport's). */
  query: Record<string, string[]>;
  /** A POST's body: a `Parameters` resource. */
  body?: unknown;
  /** The `Prefer` header as sent. */
  prefer: string | undefined;
  /** The kick-off's clock: `_since` may not be after it. */
  now: Date;
  /**
   * Checks a `_typeFilter` query against the search parameters of `type`: throws a 400 FhirError for a malformed
   * value, returns the names of the parameters the server does not know (or cannot use).
   */
  checkFilter: (type: string, query: Record<string, string[]>) => string[];
}

export interface KickOffParameters {
  outputFormat: string;
  since?: string;
  /** `_type` as asked, after lenient omissions; absent: every type the caller may export. */
  types?: string[];
  elements?: Record<string, string[]>;
  typeFilters?: Record<string, Array<Record<string, string[]>>>;
  /** `patient` (POST only): Patient ids. */
  patients?: string[];
  includeAssociatedData?: string[];
  lenient: boolean;
  /** What a lenient kick-off left out, for the job's error file. */
  issues: ExportIssue[];
}

/** The resource types an export at `level` can hold: all but AuditEvent; at patient and group level, the Patient compartment's. */
export function exportableTypes(level: ExportLevel): string[] {
  const compartment = R4_COMPARTMENTS.Patient;
  return RESOURCE_TYPES.filter((type) => !NOT_EXPORTED.has(type) && (level === 'system' || compartment[type] !== undefined));
}

/** `Prefer: respond-async` (required) and `handling=strict|lenient` (strict by default). */
export function kickOffPreference(prefer: string | undefined): { lenient: boolean } {
  const tokens = (prefer ?? '')
    .split(/[,;]/)
    .map((token) => token.trim().replace(/\s*=\s*/, '=').replace(/"/g, ''))
    .filter(Boolean);
  if (!tokens.includes('respond-async')) {
    throw new FhirError(400, { code: 'invalid', diagnostics: 'a bulk data kick-off is asynchronous: send the header Prefer: respond-async' });
  }
  const handling = tokens.find((token) => token.startsWith('handling='))?.slice('handling='.length);
  if (handling !== undefined && handling !== 'strict' && handling !== 'lenient') {
    throw new FhirError(400, { code: 'invalid', diagnostics: `Prefer: handling=${handling} is not a handling preference (strict or lenient)` });
  }
  return { lenient: handling === 'lenient' };
}

/** The kick-off's parameters, checked. */
export function kickOffParameters(input: KickOffInput): KickOffParameters {
  const { lenient } = kickOffPreference(input.prefer);
  const issues: ExportIssue[] = [];
  /** Something well formed this server does not do: refused (strict), or left out and said (lenient). */
  const unsupported = (name: string, diagnostics: string): void => {
    if (!lenient) throw new FhirError(400, { code: 'not-supported', diagnostics: `${diagnostics} (send Prefer: handling=lenient to have it left out)`, expression: [name] });
    issues.push({ severity: 'warning', code: 'not-supported', diagnostics: `ignored: ${diagnostics}`, expression: [name] });
  };
  const { values, patients } = input.method === 'POST' ? fromBody(input, unsupported) : fromQuery(input, unsupported);

  const result: KickOffParameters = { outputFormat: outputFormat(values._outputFormat), lenient, issues };
  const since = single(values._since, '_since');
  if (since !== undefined) result.since = checkedSince(since, input.now);
  const types = values._type && typesOf(values._type, input.level, unsupported);
  if (types) result.types = types;
  const elements = values._elements && elementsOf(values._elements);
  if (elements) result.elements = elements;
  const filters = values._typeFilter && typeFiltersOf(values._typeFilter, types, input, unsupported);
  if (filters && Object.keys(filters).length) result.typeFilters = filters;
  if (patients) {
    if (input.level === 'system') throw badRequest('patient applies to patient and group level exports only (Patient/$export, Group/[id]/$export), not to [base]/$export', ['patient']);
    result.patients = patients;
  }
  const associated = values.includeAssociatedData && associatedOf(values.includeAssociatedData, unsupported);
  if (associated?.length) result.includeAssociatedData = associated;
  return result;
}

type Unsupported = (name: string, diagnostics: string) => void;
type Collected = { values: Record<string, string[]>; patients?: string[] };

const KNOWN = new Set(['_outputFormat', '_since', '_type', '_elements', '_typeFilter', 'includeAssociatedData', 'patient']);

function fromQuery(input: KickOffInput, unsupported: Unsupported): Collected {
  const values: Record<string, string[]> = {};
  for (const [name, list] of Object.entries(input.query)) {
    if (TRANSPORT.has(name)) continue;
    if (name === 'patient') throw badRequest('patient can only be sent in a POST kick-off (a Parameters body), not in the URL of a GET', ['patient']);
    if (!KNOWN.has(name)) {
      unsupported(name, `${name} is not a parameter of $export`);
      continue;
    }
    values[name] = list;
  }
  return { values };
}

function fromBody(input: KickOffInput, unsupported: Unsupported): Collected {
  for (const name of Object.keys(input.query)) {
    if (!TRANSPORT.has(name)) throw badRequest(`a POST kick-off takes its parameters in the Parameters body, not in the URL (${name})`, [name]);
  }
  const body = input.body as Parameters | undefined;
  if (body?.resourceType !== 'Parameters') throw badRequest('a POST kick-off needs a Parameters resource as its body', ['Parameters']);
  const values: Record<string, string[]> = {};
  let patients: string[] | undefined;
  (body.parameter ?? []).forEach((parameter, index) => {
    const name = parameter.name;
    const at = `Parameters.parameter[${index}]`;
    if (!KNOWN.has(name)) return unsupported(name, `${name} is not a parameter of $export`);
    if (name === 'patient') {
      const id = patientOf(parameter, at);
      if (!(patients ??= []).includes(id)) patients.push(id);
      return;
    }
    (values[name] ??= []).push(stringOf(parameter, at));
  });
  return { values, patients };
}

/** The parameter's value as text: strings, codes and instants alike. */
function stringOf(parameter: ParametersParameter, at: string): string {
  const value = parameter.valueString ?? parameter.valueCode ?? parameter.valueInstant ?? parameter.valueDateTime ?? parameter.valueUri;
  if (typeof value !== 'string') throw badRequest(`${parameter.name} needs a value (valueString${parameter.name === '_since' ? ' or valueInstant' : ''})`, [at]);
  return value;
}

/** `patient`: a valueReference to a Patient of this server (`Patient/[id]`). */
function patientOf(parameter: ParametersParameter, at: string): string {
  const reference = parameter.valueReference?.reference;
  const match = reference === undefined ? null : /^Patient\/([^/]+)$/.exec(reference);
  if (!match || !isValidId(match[1])) throw badRequest(`patient needs a valueReference to a Patient (Patient/[id])${reference ? `, not ${reference}` : ''}`, [`${at}.valueReference`]);
  return match[1];
}

function single(list: string[] | undefined, name: string): string | undefined {
  if (!list?.length) return undefined;
  if (list.length > 1) throw badRequest(`${name} may be given once`, [name]);
  return list[0];
}

function outputFormat(list: string[] | undefined): string {
  const format = single(list, '_outputFormat');
  if (format === undefined) return NDJSON_FORMATS[0];
  if (!(NDJSON_FORMATS as readonly string[]).includes(format)) {
    throw badRequest(`_outputFormat ${format} is not supported: this server exports NDJSON (${NDJSON_FORMATS.join(', ')})`, ['_outputFormat']);
  }
  return format;
}

function checkedSince(since: string, now: Date): string {
  if (!isInstant(since)) throw badRequest(`_since must be an instant with a time zone, e.g. 2026-01-31T08:00:00Z (got ${since})`, ['_since']);
  if (Date.parse(since) > now.getTime()) throw badRequest(`_since ${since} is in the future: nothing can have changed after it`, ['_since']);
  return since;
}

/** A list parameter: repeated, comma-separated, or both. */
function listOf(values: string[]): string[] {
  return values.flatMap((value) => value.split(',')).map((item) => item.trim()).filter(Boolean);
}

function typesOf(values: string[], level: ExportLevel, unsupported: Unsupported): string[] {
  const exportable = new Set(exportableTypes(level));
  const types: string[] = [];
  for (const type of listOf(values)) {
    if (types.includes(type)) continue;
    if (!isResourceType(type)) unsupported('_type', `${type} is not a FHIR R4 resource type`);
    else if (NOT_EXPORTED.has(type)) unsupported('_type', `${type} is not exported (the audit trail is read through its own API)`);
    else if (!exportable.has(type)) unsupported('_type', `${type} is not in the Patient compartment, which a ${level} level export holds`);
    else types.push(type);
  }
  if (!types.length) throw badRequest('_type names no resource type that can be exported', ['_type']);
  return types;
}

/** `_elements`: `Type.element` or `element`, top-level elements only. */
function elementsOf(values: string[]): Record<string, string[]> {
  const elements: Record<string, string[]> = {};
  for (const item of listOf(values)) {
    const parts = item.split('.');
    const [type, element] = parts.length === 2 ? parts : ['*', parts[0]];
    if (parts.length > 2 || !/^[a-z][A-Za-z0-9]*$/.test(element)) {
      throw badRequest(`_elements: ${item} is not a top-level element (Type.element or element)`, ['_elements']);
    }
    if (type !== '*' && !isResourceType(type)) throw badRequest(`_elements: ${type} is not a FHIR R4 resource type`, ['_elements']);
    const list = (elements[type] ??= []);
    if (!list.includes(element)) list.push(element);
  }
  return elements;
}

/**
 * `_typeFilter`: `Type?query`, repeated or comma-separated (a comma inside a query must then be sent as %2C: a new
 * filter begins where a comma is followed by `Type?`). Filters of one type are alternatives. A filter whose
 * parameter the server does not know cannot be applied in part (that would export more than asked): strict
 * refuses it; lenient drops every filter of that type, as the specification allows, and says so.
 */
function typeFiltersOf(
  values: string[],
  types: string[] | undefined,
  input: KickOffInput,
  unsupported: Unsupported,
): Record<string, Array<Record<string, string[]>>> {
  const filters: Record<string, Array<Record<string, string[]>>> = {};
  const dropped = new Set<string>();
  const items = values.flatMap((value) => value.split(/,(?=[A-Z][A-Za-z]*\?)/)).map((item) => item.trim()).filter(Boolean);
  for (const item of items) {
    const question = item.indexOf('?');
    const type = question < 0 ? item : item.slice(0, question);
    const text = question < 0 ? '' : item.slice(question + 1);
    if (!isResourceType(type)) throw badRequest(`_typeFilter ${item}: ${type} is not a FHIR R4 resource type (write Type?query)`, ['_typeFilter']);
    if (!text) throw badRequest(`_typeFilter ${item}: no search query after ${type}?`, ['_typeFilter']);
    if (types && !types.includes(type)) throw badRequest(`_typeFilter ${item}: ${type} is not among the types of _type (${types.join(',')})`, ['_typeFilter']);
    if (!types && !exportableTypes(input.level).includes(type)) throw badRequest(`_typeFilter ${item}: ${type} is not exported at ${input.level} level`, ['_typeFilter']);
    const query = withExpression(() => parseQueryText(text, `_typeFilter ${type}`));
    const result = Object.keys(query).find((name) => RESULT_PARAMETERS.test(name));
    if (result) throw badRequest(`_typeFilter ${item}: ${result} is not a filter (only search parameters narrow an export)`, ['_typeFilter']);
    const unknown = withExpression(() => input.checkFilter(type, query));
    if (unknown.length) {
      unsupported('_typeFilter', `_typeFilter ${item}: ${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not a search parameter of ${type} this server supports; every ${type} is exported, unfiltered`);
      dropped.add(type);
      continue;
    }
    (filters[type] ??= []).push(query);
  }
  for (const type of dropped) delete filters[type];
  return filters;
}

/** A 400 of the query's parser, named `_typeFilter`. */
function withExpression<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof FhirError && error.status === 400) {
      throw new FhirError(400, error.issues.map((issue) => ({ ...issue, expression: ['_typeFilter'] })), error.headers);
    }
    throw error;
  }
}

function associatedOf(values: string[], unsupported: Unsupported): string[] {
  const kept: string[] = [];
  for (const value of listOf(values)) {
    if (value === LATEST_PROVENANCE) {
      if (!kept.includes(value)) kept.push(value);
    } else if (value === RELEVANT_PROVENANCE || /^_[A-Za-z0-9-]+$/.test(value)) {
      unsupported('includeAssociatedData', `includeAssociatedData ${value} is not supported here (${LATEST_PROVENANCE} is)`);
    } else {
      throw badRequest(`includeAssociatedData ${value} is not a value of the specification (${LATEST_PROVENANCE}, ${RELEVANT_PROVENANCE}) nor a custom one (_name)`, ['includeAssociatedData']);
    }
  }
  return kept;
}
