import { parseDateRange } from '../../fhir/date-range.js';
import { badRequest } from '../../fhir/outcome.js';
import { isResourceType } from '../../fhir/resource-types.js';
import { decimalRange } from '../index/decimal.js';
import type { SearchParamDefinition } from '../../fhir/r4/search-parameter.js';
import { splitUnescaped, unescape } from './escape.js';
import type { ParsedValue, Prefix, TokenValue } from './model.js';

const PREFIXES = new Set<Prefix>(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);

/**
 * Parses one value (one alternative of a comma list) of `definition` as its type and modifier read it.
 * `baseUrl` (this server's FHIR base) tells local absolute references from other servers' ones.
 */
export function parseValue(definition: SearchParamDefinition, modifier: string | undefined, raw: string, name: string, baseUrl?: string): ParsedValue {
  const invalid = (why: string) => badRequest(`${name}=${raw}: ${why}`, [name]);
  switch (definition.type) {
    case 'string':
      return { type: 'string', value: unescape(raw) };
    case 'uri':
      return { type: 'uri', value: unescape(raw) };
    case 'token':
      return { type: 'token', value: parseToken(raw, modifier) };
    case 'date': {
      const [prefix, rest] = splitPrefix(raw);
      const range = parseDateRange(rest);
      if (!range) throw invalid('not a date, such as 2024, 2024-03-01 or 2024-03-01T10:00:00Z (with an optional prefix like ge)');
      return { type: 'date', prefix, range };
    }
    case 'number': {
      const [prefix, rest] = splitPrefix(raw);
      const range = decimalRange(rest);
      if (!range) throw invalid('not a number');
      return { type: 'number', prefix, value: range.value, range };
    }
    case 'quantity': {
      const [number, system, code, ...extra] = splitUnescaped(raw, '|');
      if (extra.length) throw invalid('a quantity is [prefix]number|system|code');
      const [prefix, rest] = splitPrefix(number);
      const range = decimalRange(rest);
      if (!range) throw invalid('the quantity does not start with a number');
      return {
        type: 'quantity',
        prefix,
        value: range.value,
        range,
        system: system ? unescape(system) : undefined,
        code: code ? unescape(code) : undefined,
      };
    }
    case 'reference':
      return parseReference(definition, modifier, unescape(raw), invalid, baseUrl);
    default:
      throw invalid(`parameters of type ${definition.type} are not supported`);
  }
}

function splitPrefix(raw: string): [Prefix, string] {
  const candidate = raw.slice(0, 2) as Prefix;
  return PREFIXES.has(candidate) && raw.length > 2 && !/^[a-z]/i.test(raw[2] ?? '') ? [candidate, raw.slice(2)] : ['eq', raw];
}

function parseToken(raw: string, modifier: string | undefined): TokenValue {
  if (modifier === 'text') return { text: unescape(raw) };
  const parts = splitUnescaped(raw, '|');
  if (modifier === 'of-type') {
    const [system, code, value] = parts.map(unescape);
    return { ofType: { system: system || undefined, code: code || undefined, value: value ?? '' } };
  }
  if (parts.length === 1) return { code: unescape(parts[0]) };
  const [system, code] = [unescape(parts[0]), unescape(parts.slice(1).join('|'))];
  // `|code` means "no system"; `system|` means "any code in that system".
  return { system, code: code === '' ? undefined : code };
}

function parseReference(
  definition: SearchParamDefinition,
  modifier: string | undefined,
  value: string,
  invalid: (why: string) => Error,
  baseUrl: string | undefined,
): ParsedValue {
  if (modifier === 'identifier') {
    const [system, code] = splitUnescaped(value, '|');
    // `|value` means an identifier without a system, as for tokens.
    return code === undefined ? { type: 'reference', identifier: { value: system } } : { type: 'reference', identifier: { system, value: code || undefined } };
  }
  // This server's own absolute URL for a resource is the same as the relative reference.
  if (baseUrl && value.startsWith(`${baseUrl}/`)) value = value.slice(baseUrl.length + 1);
  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) return { type: 'reference', url: value };
  const typed = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([^/]+))?$/.exec(value);
  if (typed) {
    if (!isResourceType(typed[1])) throw invalid(`${typed[1]} is not a resource type`);
    // Stored references written with this server's absolute URL are found too.
    return { type: 'reference', targetType: typed[1], id: typed[2], version: typed[3], url: baseUrl ? `${baseUrl}/${typed[1]}/${typed[2]}` : undefined };
  }
  if (!/^[A-Za-z0-9\-.]{1,64}$/.test(value)) throw invalid('not a reference: use Type/id, an id, or an absolute URL');
  // A bare id: of the type the modifier names, or of any of the parameter's targets.
  const targetType = modifier && isResourceType(modifier) ? modifier : definition.target?.length === 1 ? definition.target[0] : undefined;
  return { type: 'reference', targetType, id: value, url: baseUrl && targetType ? `${baseUrl}/${targetType}/${value}` : undefined };
}
