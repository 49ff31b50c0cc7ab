import type { AuditEvent, Resource } from 'fhir/r4';
import { accessRows } from './access-rows.js';
import { linkRows } from './links.js';
import type { SearchParameterRegistry } from '../registry.js';
import type { SearchParamDefinition } from '../../fhir/r4/search-parameter.js';
import { emptyIndexRows, type IndexRows } from '../types.js';
import { auditEventIndexRows, handIndexApplies, isServerBuilt } from './audit-event.js';
import { compositeCombinations, type CompositeContext } from './composite.js';
import { toDates } from './date.js';
import { selectFromResource } from './expression.js';
import { toNumbers } from './number.js';
import { toQuantities } from './quantity.js';
import { toReferences } from './reference.js';
import { toStrings } from './string.js';
import { toTokens } from './token.js';
import { UniqueRows } from './unique.js';
import { toUris } from './uri.js';
import type { Converter, FhirValue } from './values.js';

/** Parameters the search compiler answers from the resource row itself (id, last_updated): no index rows. */
const ANSWERED_BY_COLUMNS = new Set(['_id', '_lastUpdated']);

export interface ExtractOptions {
  /** Called for a selected item the parameter's type cannot index (e.g. a Quantity under a token parameter). */
  onUnindexed?: (definition: SearchParamDefinition, valueType: string) => void;
}

/**
 * The search index rows of one resource version: for every parameter of its type, the values its FHIRPath
 * expression selects, converted by parameter type and datatype. Identical rows of one parameter are kept once.
 */
export function extractIndexRows(
  resource: Resource,
  registry: SearchParameterRegistry,
  options: ExtractOptions = {},
): IndexRows {
  // The server's own AuditEvents, written at the rate of reads: their rows by hand, the same without FHIRPath.
  if (resource.resourceType === 'AuditEvent' && isServerBuilt(resource) && handIndexApplies(registry)) return auditEventIndexRows(resource as AuditEvent);
  const rows = emptyIndexRows();
  const resourceType = resource.resourceType;
  const context: CompositeContext = { resource, resourceType, registry, onUnindexed: options.onUnindexed, cache: new Map() };
  for (const definition of registry.forType(resourceType)) {
    if (definition.type === 'special' || !definition.expression || ANSWERED_BY_COLUMNS.has(definition.code)) continue;
    const values = selectFromResource(definition.expression, resource, definition.type === 'composite');
    if (values.length === 0) continue;
    const param = definition.code;
    const convert = <T extends object>(converter: Converter<T>, table: (T & { param: string })[]): void => {
      const unique = new UniqueRows<T>();
      for (const value of values) {
        const converted = converter(value);
        if (converted === undefined) options.onUnindexed?.(definition, value.type);
        else for (const row of converted) unique.add(row);
      }
      for (const row of unique.rows) table.push({ param, ...row });
    };
    switch (definition.type) {
      case 'string':
        convert(toStrings, rows.string);
        break;
      case 'token':
        convert(toTokens, rows.token);
        break;
      case 'date':
        convert(toDates, rows.date);
        break;
      case 'number':
        convert(toNumbers, rows.number);
        break;
      case 'quantity':
        convert(toQuantities, rows.quantity);
        break;
      case 'reference':
        convert(toReferences, rows.reference);
        break;
      case 'uri':
        convert(toUris, rows.uri);
        break;
      case 'composite':
        convert((element: FhirValue) => compositeCombinations(definition, element, context).map((components) => ({ components })), rows.composite);
        break;
    }
  }
  // Who may see a patient's plan, as an active Consent states it: indexed with it, read by the access decision.
  rows.composite.push(...accessRows(resource));
  // What it refers to, so that a delete can tell whether anything still does (server/integrity).
  rows.link.push(...linkRows(resource));
  return rows;
}
