import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle, SearchParameter } from 'fhir/r4';
import { R4_SEARCH_PARAMETERS } from '../fhir/r4/search-parameters.generated.js';
import { isResourceType } from '../fhir/resource-types.js';
import type { SchemaValidator } from '../validation/schema-validator.js';
import { toDefinitions } from './definitions.js';
import { compileExpression } from './index/expression.js';
import { SearchParameterRegistry } from './registry.js';
import type { SearchParamDefinition } from '../fhir/r4/search-parameter.js';

/**
 * Custom SearchParameters: every `*.json` in `dir` holding a SearchParameter or a Bundle of them. They are
 * checked at start-up (R4 schema, bases, types, FHIRPath that compiles) and added after the official ones, so a
 * custom parameter with an official code replaces it for its base. Returns the registry the server searches with.
 */
export function loadRegistry(dir: string | undefined, schema: SchemaValidator): { registry: SearchParameterRegistry; custom: SearchParamDefinition[] } {
  const parameters = dir && existsSync(dir) ? readSearchParameters(dir, schema) : [];
  // Components may name official parameters by URL: give the converter those too, in the shape it reads.
  const official = R4_SEARCH_PARAMETERS.map((d) => ({ url: d.url, code: d.code, expression: d.expression }) as SearchParameter);
  const custom = toDefinitions(parameters, official);
  for (const definition of custom) checkExpressions(definition);
  return { registry: new SearchParameterRegistry([...R4_SEARCH_PARAMETERS, ...custom]), custom };
}

function readSearchParameters(dir: string, schema: SchemaValidator): SearchParameter[] {
  const found: SearchParameter[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const where = path.join(dir, file);
    let content: unknown;
    try {
      content = JSON.parse(readFileSync(where, 'utf8'));
    } catch (error) {
      throw new Error(`${where}: not JSON (${(error as Error).message})`);
    }
    const resources = (content as Bundle).resourceType === 'Bundle' ? ((content as Bundle).entry ?? []).map((e) => e.resource) : [content];
    for (const resource of resources) found.push(checked(resource, where, schema));
  }
  return found;
}

function checked(resource: unknown, where: string, schema: SchemaValidator): SearchParameter {
  const candidate = resource as SearchParameter | undefined;
  if (candidate?.resourceType !== 'SearchParameter') throw new Error(`${where}: holds a ${candidate?.resourceType ?? 'non-resource'}, not a SearchParameter`);
  const issues = schema.validate(candidate as unknown as Record<string, unknown>, 'SearchParameter');
  if (issues.length) throw new Error(`${where}: ${issues.map((i) => i.diagnostics).join('; ')}`);
  const badBase = (candidate.base as string[]).filter((b) => b !== 'Resource' && !isResourceType(b));
  if (badBase.length) throw new Error(`${where}: ${candidate.code}: unknown base ${badBase.join(', ')}`);
  if (candidate.type !== 'special' && !candidate.expression) throw new Error(`${where}: ${candidate.code}: an expression is required`);
  return candidate;
}

function checkExpressions(definition: SearchParamDefinition): void {
  for (const expression of [definition.expression ?? '', ...(definition.component ?? []).map((c) => c.expression)]) {
    try {
      compileExpression(expression);
    } catch (error) {
      throw new Error(`custom SearchParameter ${definition.url}: expression "${expression}" does not compile: ${(error as Error).message}`);
    }
  }
}
