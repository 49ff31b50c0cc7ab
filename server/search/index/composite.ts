import type { SearchParamDefinition } from '../../fhir/r4/search-parameter.js';
import type { CompositeComponent } from '../types.js';
import type { SearchParameterRegistry } from '../registry.js';
import { isComponentType, toComponents } from './convert.js';
import { selectFromElement } from './expression.js';
import { isRecord, type FhirValue } from './values.js';

export interface CompositeContext {
  resource: object;
  resourceType: string;
  registry: SearchParameterRegistry;
  onUnindexed?: (definition: SearchParamDefinition, valueType: string) => void;
  /**
   * Component values per element JSON and component, for one resource: several composites share components
   * (an Observation's code is read by every code-value-* and combo-* parameter).
   */
  cache: Map<object, Map<string, CompositeComponent[]>>;
}

/**
 * One element the composite's expression selected (an Observation, one Observation.component, one useContext)
 * gives every combination of its components' values. Combinations never mix two elements, so a blood pressure's
 * systolic code is never paired with its diastolic value.
 */
export function compositeCombinations(
  definition: SearchParamDefinition,
  element: FhirValue,
  context: CompositeContext,
): CompositeComponent[][] {
  const components = definition.component ?? [];
  if (components.length === 0) return [];
  // Last first: values (value.ofType(Quantity)…) are absent more often than codes, and one empty component ends it.
  const valueLists: CompositeComponent[][] = [];
  for (let i = components.length - 1; i >= 0; i--) {
    const values = componentValues(definition, components[i], element, context);
    if (values.length === 0) return [];
    valueLists[i] = values;
  }
  let combinations: CompositeComponent[][] = [[]];
  for (const values of valueLists) combinations = combinations.flatMap((prefix) => values.map((v) => [...prefix, v]));
  return combinations;
}

function componentValues(
  definition: SearchParamDefinition,
  component: { code: string; expression: string },
  element: FhirValue,
  context: CompositeContext,
): CompositeComponent[] {
  const type = context.registry.get(context.resourceType, component.code)?.type;
  if (!type || !isComponentType(type)) {
    context.onUnindexed?.(definition, `component ${component.code}`);
    return [];
  }
  const key = `${type}\u0000${component.expression}`;
  const cached = isRecord(element.data) ? context.cache.get(element.data)?.get(key) : undefined;
  if (cached) return cached;
  const values: CompositeComponent[] = [];
  for (const value of selectFromElement(component.expression, element, context.resource)) {
    const converted = toComponents(type, value);
    if (converted === undefined) context.onUnindexed?.(definition, `${component.code}: ${value.type}`);
    else values.push(...converted);
  }
  if (isRecord(element.data)) {
    let perElement = context.cache.get(element.data);
    if (!perElement) context.cache.set(element.data, (perElement = new Map()));
    perElement.set(key, values);
  }
  return values;
}
