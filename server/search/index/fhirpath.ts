import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import type { FhirValue } from './values.js';

/** Evaluates a compiled expression against a resource or a node a previous evaluation selected. */
export type Evaluator = (input: unknown, environment?: Record<string, unknown>) => FhirValue[];

/** FHIRPath system types as the FHIR datatypes the converters know (`Resource.id` is typed System.String). */
export const SYSTEM_TYPES: Record<string, string> = {
  'System.String': 'string',
  'System.Boolean': 'boolean',
  'System.Integer': 'integer',
  'System.Decimal': 'decimal',
  'System.Date': 'date',
  'System.DateTime': 'dateTime',
  'System.Time': 'time',
};

const cache = new Map<string, Evaluator>();

const choiceNames = new Set(Object.keys(r4.choiceTypePaths).map((path) => path.slice(path.lastIndexOf('.') + 1)));

/** Whether an element of this name is a choice (`value[x]`) in some R4 type, so its JSON name varies. */
export function isChoiceName(name: string): boolean {
  return choiceNames.has(name);
}

/** The JSON names of an element: `Observation.value` → valueQuantity, valueString…; others → their own name. */
export function jsonNames(path: string, name: string): string[] {
  const suffixes = r4.choiceTypePaths[path];
  return suffixes ? suffixes.map((suffix) => `${name}${suffix}`) : [name];
}

/**
 * Compiles once per distinct expression text: parsing is far costlier than evaluating, and index extraction runs
 * on every write. Internal types are not resolved, so each result keeps the datatype the R4 model gives it.
 */
export function compileFhirPath(expression: string): Evaluator {
  let evaluator = cache.get(expression);
  if (!evaluator) {
    const compiled = fhirpath.compile(expression, r4, { resolveInternalTypes: false });
    evaluator = (input, environment) => toValues(compiled(input, environment));
    cache.set(expression, evaluator);
  }
  return evaluator;
}

interface EngineNode {
  data: unknown;
  fhirNodeDataType: string | null;
  getTypeInfo(): { namespace: string; name: string };
}

function isEngineNode(item: unknown): item is EngineNode {
  return typeof item === 'object' && item !== null && 'data' in item && 'getTypeInfo' in item;
}

function toValues(result: unknown[]): FhirValue[] {
  const values: FhirValue[] = [];
  for (const item of result) {
    if (isEngineNode(item)) {
      // A primitive with only an extension (`_birthDate`) is a node without data: nothing to index.
      if (item.data === null || item.data === undefined) continue;
      // The engine wraps decimal and integer primitives; their text is the JSON number's.
      const data = item.data instanceof fhirpath.FP_Decimal ? item.data.toString() : item.data;
      values.push({ type: typeName(item), data, node: item });
    } else if (typeof item === 'boolean') {
      values.push({ type: 'boolean', data: item, node: item });
    } else if (typeof item === 'string') {
      values.push({ type: 'string', data: item, node: item });
    } else if (typeof item === 'number') {
      values.push({ type: Number.isInteger(item) ? 'integer' : 'decimal', data: item, node: item });
    }
  }
  return values;
}

function typeName(node: EngineNode): string {
  const declared = node.fhirNodeDataType;
  if (declared) return SYSTEM_TYPES[declared] ?? declared;
  const info = node.getTypeInfo();
  return info.namespace === 'System' ? (SYSTEM_TYPES[`System.${info.name}`] ?? info.name) : info.name;
}
