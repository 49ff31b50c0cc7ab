import type { Parameters, ParametersParameter, Resource } from 'fhir/r4';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { FhirError } from '../fhir/outcome.js';
import { elementFacts } from './element-model.js';

/** The engine's node for a selected element: where it sits in its parent, which is what a patch changes. */
interface Node {
  data: unknown;
  path: string | null;
  propName?: string | null;
  index?: number | null;
  parentResNode: Node | null;
}

type JsonObject = Record<string, unknown>;

/** A value to put into the resource, with the type suffix a choice element needs (`Quantity` of valueQuantity). */
interface PatchValue {
  value: unknown;
  suffix?: string;
  /** Parts of an anonymous (backbone) value, built once the element it goes into is known. */
  parts?: ParametersParameter[];
}

interface Operation {
  type: 'add' | 'insert' | 'delete' | 'replace' | 'move';
  path: string;
  name?: string;
  value?: PatchValue;
  index?: number;
  source?: number;
  destination?: number;
}

const TYPES = new Set(['add', 'insert', 'delete', 'replace', 'move']);

/**
 * Applies a FHIRPath Patch (a Parameters resource of `operation` parameters) to a copy of `resource`. A
 * malformed patch is a 400 naming the parameter; an operation that cannot apply (its path selects nothing or
 * several elements, an index out of range, a value where there already is one) is a 422.
 */
export function applyFhirPathPatch(resource: Resource, patch: unknown): Resource {
  const operations = readOperations(patch);
  const result = structuredClone(resource) as unknown as JsonObject;
  operations.forEach((operation, index) => {
    try {
      apply(result, operation);
    } catch (error) {
      if (error instanceof PatchFailure) {
        throw new FhirError(422, { code: 'processing', diagnostics: `FHIRPath Patch operation ${index} (${operation.type} ${operation.path}): ${error.message}`, expression: [`Parameters.parameter[${index}]`] });
      }
      throw error;
    }
  });
  return prune(result) as unknown as Resource;
}

class PatchFailure extends Error {}

function readOperations(patch: unknown): Operation[] {
  const parameters = patch as Parameters | undefined;
  if (parameters?.resourceType !== 'Parameters') {
    throw new FhirError(400, { code: 'structure', diagnostics: 'A FHIRPath Patch is a Parameters resource (JSON Patch needs Content-Type application/json-patch+json)' });
  }
  return (parameters.parameter ?? []).map((parameter, index) => {
    const malformed = (why: string) => new FhirError(400, { code: 'invalid', diagnostics: `FHIRPath Patch operation ${index}: ${why}`, expression: [`Parameters.parameter[${index}]`] });
    if (parameter.name !== 'operation') throw malformed(`every parameter must be named operation (got ${parameter.name})`);
    const part = (name: string) => parameter.part?.find((p) => p.name === name);
    const type = part('type')?.valueCode;
    if (!type || !TYPES.has(type)) throw malformed(`type must be one of ${[...TYPES].join(', ')}`);
    const path = part('path')?.valueString;
    if (!path) throw malformed('path is required');
    if (/\bresolve\s*\(/.test(path)) throw malformed('a patch path may not use resolve(): a patch stays inside its resource');
    try {
      fhirpath.compile(path, r4);
    } catch (error) {
      throw malformed(`path is not valid FHIRPath: ${firstLine(error)}`);
    }
    const operation: Operation = { type: type as Operation['type'], path, name: part('name')?.valueString };
    const valuePart = part('value');
    if (valuePart) operation.value = readValue(valuePart);
    for (const key of ['index', 'source', 'destination'] as const) {
      const found = part(key);
      if (found) {
        if (!Number.isInteger(found.valueInteger) || found.valueInteger! < 0) throw malformed(`${key} must be a valueInteger of 0 or more`);
        operation[key] = found.valueInteger;
      }
    }
    const needs: Record<Operation['type'], (keyof Operation)[]> = {
      add: ['name', 'value'],
      insert: ['value', 'index'],
      delete: [],
      replace: ['value'],
      move: ['source', 'destination'],
    };
    const missing = needs[operation.type].filter((key) => operation[key] === undefined);
    if (missing.length) throw malformed(`${operation.type} needs ${missing.join(' and ')}`);
    return operation;
  });
}

/** A `value` part: a datatype in value[x], a resource, or an anonymous type given as parts. */
function readValue(part: ParametersParameter): PatchValue {
  if (part.resource) return { value: part.resource };
  const key = Object.keys(part).find((k) => k.startsWith('value') && k.length > 5);
  if (key) return { value: (part as unknown as JsonObject)[key], suffix: key.slice(5) };
  if (part.part?.length) return { value: undefined, parts: part.part };
  return { value: undefined };
}

function apply(resource: JsonObject, operation: Operation): void {
  switch (operation.type) {
    case 'add': {
      const container = single(select(resource, operation.path), 'add to');
      if (!isObject(container.data)) throw new PatchFailure('the path selects a primitive value, which has no elements to add to');
      const owner = container.path ?? '';
      const facts = elementFacts(owner, operation.name!);
      if (!facts) throw new PatchFailure(`${owner} has no element named ${operation.name}`);
      const key = jsonKey(operation.name!, facts.choiceTypes, operation.value!);
      const value = build(operation.value!, `${owner}.${operation.name}`);
      if (facts.repeats) {
        const list = container.data[key];
        container.data[key] = Array.isArray(list) ? [...list, value] : [value];
      } else {
        const target = container.data;
        const present = facts.choiceTypes ? facts.choiceTypes.some((suffix) => Object.hasOwn(target, `${operation.name}${suffix}`)) : Object.hasOwn(target, key);
        if (present) throw new PatchFailure(`${operation.name} already has a value: use replace`);
        container.data[key] = value;
      }
      return;
    }
    case 'insert': {
      const list = collection(resource, operation.path);
      if (operation.index! > list.items.length) throw new PatchFailure(`index ${operation.index} is past the end of the list (${list.items.length} items)`);
      list.items.splice(operation.index!, 0, build(operation.value!, list.itemPath));
      // Extensions of primitive items (`_given`) stay with their items.
      list.companion?.splice(operation.index!, 0, null);
      list.store();
      return;
    }
    case 'delete': {
      const nodes = select(resource, operation.path);
      if (!nodes.length) return;
      const { parent, key, index } = location(single(nodes, 'delete'));
      if (index === null) {
        delete parent[key];
        delete parent[`_${key}`];
      } else {
        (parent[key] as unknown[]).splice(index, 1);
        const companion = parent[`_${key}`];
        if (Array.isArray(companion)) companion.splice(index, 1);
      }
      return;
    }
    case 'replace': {
      const node = single(select(resource, operation.path), 'replace');
      const { parent, key, index, owner, name } = location(node);
      const choiceTypes = elementFacts(owner, name)?.choiceTypes;
      const value = build(operation.value!, node.path ?? undefined);
      if (index !== null) {
        (parent[key] as unknown[])[index] = value;
      } else {
        // A choice element may change type: valueQuantity replaced by a string becomes valueString.
        const newKey = jsonKey(name, choiceTypes, operation.value!);
        if (newKey !== key) {
          delete parent[key];
          delete parent[`_${key}`];
        }
        parent[newKey] = value;
      }
      return;
    }
    case 'move': {
      const list = collection(resource, operation.path);
      const { source, destination } = operation as Required<Operation>;
      if (source >= list.items.length || destination >= list.items.length) {
        throw new PatchFailure(`source ${source} and destination ${destination} must both be below the list's length (${list.items.length})`);
      }
      const [item] = list.items.splice(source, 1);
      list.items.splice(destination, 0, item);
      if (list.companion) {
        const [extensions] = list.companion.splice(source, 1);
        list.companion.splice(destination, 0, extensions ?? null);
      }
      list.store();
      return;
    }
  }
}

function select(resource: JsonObject, path: string): Node[] {
  let result: unknown[];
  try {
    result = fhirpath.evaluate(resource, path, undefined, r4, { resolveInternalTypes: false }) as unknown[];
  } catch (error) {
    throw new PatchFailure(`the path cannot be evaluated on this resource: ${firstLine(error)}`);
  }
  return result.map((item) => {
    if (!isNode(item)) throw new PatchFailure('the path computes a value instead of selecting elements of the resource');
    return item;
  });
}

function single(nodes: Node[], action: string): Node {
  if (nodes.length !== 1) throw new PatchFailure(`the path must select exactly one element to ${action}; it selects ${nodes.length}`);
  return nodes[0];
}

/** Where a selected element lives: its parent object, its JSON key (with a choice type's suffix) and its array index. */
function location(node: Node): { parent: JsonObject; key: string; index: number | null; owner: string; name: string } {
  const parentNode = node.parentResNode;
  const name = node.propName;
  if (!parentNode || !name || !isObject(parentNode.data)) throw new PatchFailure('the path selects the resource itself, not an element of it');
  const parent = parentNode.data;
  const key = Object.hasOwn(parent, name) ? name : Object.keys(parent).find((k) => k.startsWith(name) && /^[A-Z]/.test(k.slice(name.length)));
  if (!key) throw new PatchFailure(`${name} has only extensions, no value to change`);
  const index = Array.isArray(parent[key]) ? (node.index ?? 0) : null;
  return { parent, key, index, owner: parentNode.path ?? '', name };
}

/**
 * The list a path names, for insert and move. When the list is empty the path selects nothing, so its last
 * step (`Patient.identifier` → `identifier`) is looked up on the element before it.
 */
function collection(resource: JsonObject, path: string): { items: unknown[]; companion?: unknown[]; itemPath?: string; store: () => void } {
  const nodes = select(resource, path);
  if (nodes.length) {
    const first = location(nodes[0]);
    for (const node of nodes) {
      const { parent, key } = location(node);
      if (parent !== first.parent || key !== first.key) throw new PatchFailure('the path must select the items of one list');
    }
    const items = first.parent[first.key];
    if (!Array.isArray(items)) throw new PatchFailure(`${first.name} is not a list`);
    const companion = first.parent[`_${first.key}`];
    return { items, companion: Array.isArray(companion) ? companion : undefined, itemPath: nodes[0].path ?? undefined, store: () => {} };
  }
  const step = /^(.+)\.([A-Za-z][A-Za-z0-9]*)$/.exec(path);
  if (!step) throw new PatchFailure('the path selects no list');
  const owner = single(select(resource, step[1]), 'hold the list');
  if (!isObject(owner.data) || !elementFacts(owner.path ?? '', step[2])?.repeats) throw new PatchFailure(`${step[2]} is not a list here`);
  const data = owner.data;
  const items: unknown[] = [];
  return { items, itemPath: `${owner.path}.${step[2]}`, store: () => (data[step[2]] = items) };
}

/** The JSON key of an element: its name, or for a choice element its name with the value's type suffix. */
function jsonKey(name: string, choiceTypes: string[] | undefined, value: PatchValue): string {
  if (!choiceTypes) return name;
  if (!value.suffix || !choiceTypes.includes(value.suffix)) {
    throw new PatchFailure(`${name}[x] takes one of ${choiceTypes.join(', ')}; the value given is ${value.suffix ?? 'untyped'}`);
  }
  return `${name}${value.suffix}`;
}

/** The JSON of a value; anonymous parts become an object, a name given twice or a repeating element an array. */
function build(value: PatchValue, elementPath?: string): unknown {
  if (!value.parts) {
    if (value.value === undefined) throw new PatchFailure('the value part carries no value');
    return structuredClone(value.value);
  }
  const object: JsonObject = {};
  const names = value.parts.map((part) => part.name);
  for (const part of value.parts) {
    const facts = elementPath ? elementFacts(elementPath, part.name) : undefined;
    const key = jsonKey(part.name, facts?.choiceTypes, readValue(part));
    const item = build(readValue(part), elementPath ? `${elementPath}.${part.name}` : undefined);
    if (facts?.repeats || names.filter((n) => n === part.name).length > 1) object[key] = [...((object[key] as unknown[]) ?? []), item];
    else object[key] = item;
  }
  return object;
}

/** Deleting the last item of a list or element of an object leaves `[]` or `{}`, which FHIR JSON forbids. */
function prune(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(prune).filter((item) => item !== undefined);
    return items.length ? items : undefined;
  }
  if (isObject(value)) {
    const object: JsonObject = {};
    for (const [key, item] of Object.entries(value)) {
      const kept = prune(item);
      if (kept !== undefined) object[key] = kept;
    }
    return Object.keys(object).length ? object : undefined;
  }
  return value;
}

function firstLine(error: unknown): string {
  return String((error as Error).message ?? error).split('\n')[0];
}

function isNode(item: unknown): item is Node {
  return typeof item === 'object' && item !== null && 'parentResNode' in item && 'data' in item;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
