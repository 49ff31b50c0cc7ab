import { FhirError } from '../fhir/outcome.js';

/** One operation of an RFC 6902 JSON Patch document. */
interface Operation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

type Container = Record<string, unknown> | unknown[];

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

/**
 * Applies a JSON Patch (RFC 6902) to a copy of `document`: every operation or none. A malformed patch document
 * is a 400; an operation that cannot apply to this resource (missing target, failed `test`) is a 422.
 */
export function applyJsonPatch(document: unknown, patch: unknown): unknown {
  const operations = readOperations(patch);
  let result = structuredClone(document);
  operations.forEach((operation, index) => {
    try {
      result = apply(result, operation);
    } catch (error) {
      if (error instanceof PatchFailure) {
        throw new FhirError(422, { code: 'processing', diagnostics: `JSON Patch operation ${index} (${operation.op} ${operation.path}): ${error.message}` });
      }
      throw error;
    }
  });
  return result;
}

class PatchFailure extends Error {}

function readOperations(patch: unknown): Operation[] {
  if (!Array.isArray(patch)) {
    throw new FhirError(400, { code: 'structure', diagnostics: 'A JSON Patch document is a JSON array of operations' });
  }
  return patch.map((item: unknown, index) => {
    const malformed = (why: string) => new FhirError(400, { code: 'structure', diagnostics: `JSON Patch operation ${index}: ${why}` });
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw malformed('is not an object');
    const operation = item as Record<string, unknown>;
    if (typeof operation.op !== 'string' || !OPS.has(operation.op)) throw malformed(`op must be one of ${[...OPS].join(', ')}`);
    if (typeof operation.path !== 'string') throw malformed('path must be a JSON Pointer string');
    parsePointer(operation.path, malformed);
    if ((operation.op === 'move' || operation.op === 'copy') && typeof operation.from !== 'string') throw malformed(`${operation.op} needs from`);
    if (typeof operation.from === 'string') parsePointer(operation.from, malformed);
    if ((operation.op === 'add' || operation.op === 'replace' || operation.op === 'test') && !('value' in operation)) {
      throw malformed(`${operation.op} needs a value`);
    }
    return operation as unknown as Operation;
  });
}

function apply(document: unknown, operation: Operation): unknown {
  const path = parsePointer(operation.path);
  switch (operation.op) {
    case 'add':
      return add(document, path, structuredClone(operation.value));
    case 'remove':
      return remove(document, path).document;
    case 'replace':
      if (!path.length) return structuredClone(operation.value);
      return add(remove(document, path).document, path, structuredClone(operation.value));
    case 'move': {
      const from = parsePointer(operation.from!);
      if (from.length < path.length && from.every((token, i) => token === path[i])) {
        throw new PatchFailure('cannot move a value into one of its own children');
      }
      const removed = remove(document, from);
      return add(removed.document, path, removed.value);
    }
    case 'copy':
      return add(document, path, structuredClone(valueAt(document, parsePointer(operation.from!))));
    case 'test':
      if (!jsonEqual(valueAt(document, path), operation.value)) throw new PatchFailure('the value is not the one the test expects');
      return document;
  }
}

function add(document: unknown, path: string[], value: unknown): unknown {
  if (!path.length) return value;
  const parent = containerAt(document, path.slice(0, -1));
  const token = path[path.length - 1];
  if (Array.isArray(parent)) {
    const index = token === '-' ? parent.length : arrayIndex(token, parent.length + 1);
    parent.splice(index, 0, value);
  } else {
    // A member named `__proto__` is an ordinary member in JSON; plain assignment would change the prototype.
    Object.defineProperty(parent, token, { value, writable: true, enumerable: true, configurable: true });
  }
  return document;
}

function remove(document: unknown, path: string[]): { document: unknown; value: unknown } {
  if (!path.length) throw new PatchFailure('cannot remove the whole resource');
  const parent = containerAt(document, path.slice(0, -1));
  const token = path[path.length - 1];
  if (Array.isArray(parent)) {
    const [value] = parent.splice(arrayIndex(token, parent.length), 1);
    return { document, value };
  }
  if (!Object.hasOwn(parent, token)) throw new PatchFailure(`there is no member "${token}" to remove or replace`);
  const value = parent[token];
  delete parent[token];
  return { document, value };
}

function valueAt(document: unknown, path: string[]): unknown {
  if (!path.length) return document;
  const parent = containerAt(document, path.slice(0, -1));
  const token = path[path.length - 1];
  if (Array.isArray(parent)) return parent[arrayIndex(token, parent.length)];
  if (!Object.hasOwn(parent, token)) throw new PatchFailure(`there is no member "${token}"`);
  return parent[token];
}

function containerAt(document: unknown, path: string[]): Container {
  let node = document;
  for (const token of path) {
    if (Array.isArray(node)) node = node[arrayIndex(token, node.length)];
    else if (isObject(node) && Object.hasOwn(node, token)) node = node[token];
    else throw new PatchFailure(`there is nothing at "${token}"`);
  }
  if (!Array.isArray(node) && !isObject(node)) throw new PatchFailure('the target is inside a primitive value');
  return node;
}

/** An array index token: digits without leading zeros, below `limit`. */
function arrayIndex(token: string, limit: number): number {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchFailure(`"${token}" is not an array index`);
  const index = Number(token);
  if (index >= limit) throw new PatchFailure(`index ${index} is past the end of the array`);
  return index;
}

/** RFC 6901: `/a~1b/c~0d` → ['a/b', 'c~d']. */
function parsePointer(pointer: string, malformed?: (why: string) => Error): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) {
    const why = `"${pointer}" is not a JSON Pointer (it must start with /)`;
    throw malformed ? malformed(why) : new PatchFailure(why);
  }
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** RFC 6902 §4.6 equality: numbers by value (0 equals -0), objects regardless of member order. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
