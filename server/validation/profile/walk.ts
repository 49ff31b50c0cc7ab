import { checkBinding } from './binding.js';
import { isObject, report, type Json, type WalkContext } from './context.js';
import type { ElementNode } from './element-tree.js';
import { extensionDefinition } from './extension.js';
import { checkFixedAndPattern } from './fixed-pattern.js';
import { checkCardinality, instancesOf, type ElementKeys, type Instance } from './instances.js';
import { checkInvariants, checkPrimitiveInvariants } from './invariants.js';
import { primitiveProblem, primitiveRule } from './primitive.js';
import { checkReference } from './reference.js';
import { validateNestedResource } from './resource.js';
import { assignSlices } from './slicing.js';
import { upperFirst } from './structures.js';

const RESOURCE_TYPES = new Set(['Resource', 'DomainResource']);

/**
 * Walks one JSON object (a resource, or an instance of a complex type) against the element `node` as an
 * instance of `type`: every key must be a child element, every child's occurrences are counted, sliced and
 * walked in turn.
 */
export function walkObject(ctx: WalkContext, node: ElementNode, type: string, object: Json, path: string, isResource = false): void {
  const index = ctx.structures.children(node, type);
  const found = new Map<ElementNode, ElementKeys>();
  for (const key of Object.keys(object)) {
    // JSON has no undefined: a key holding it (a resource built in this process) is no element at all.
    if ((isResource && key === 'resourceType') || object[key] === undefined) continue;
    const name = key.startsWith('_') ? key.slice(1) : key;
    const entry = index.byJsonName.get(name);
    if (!entry || (key !== name && !ctx.structures.isPrimitive(entry.type))) {
      report(ctx, 'error', 'structure', `${path}.${key}`, `${path}.${key} is not a known element of ${node.path}${choiceHint(index.elements, name)}`);
      continue;
    }
    let keys = found.get(entry.element);
    if (!keys) found.set(entry.element, (keys = { element: entry.element, entries: [] }));
    keys.entries.push({ key, entry });
  }
  for (const element of index.elements) {
    const keys = found.get(element);
    const instances = keys ? instancesOf(ctx, object, keys, path) : [];
    const elementPath = `${path}.${element.isChoice ? element.name.slice(0, -3) : element.name}`;
    // A missing element is reported at its own path (where it should be), not at its parent's.
    checkCardinality(ctx, element, instances.length, elementPath, element.name);
    if (!instances.length) {
      // No occurrence at all: each slice that needs one is missing too, and says so by name.
      for (const slice of element.slices) checkCardinality(ctx, slice, 0, elementPath, `slice '${slice.sliceName}'`);
      continue;
    }
    const targets = element.slicing || element.slices.length ? assignSlices(ctx, element, instances, elementPath) : undefined;
    instances.forEach((instance, i) => walkInstance(ctx, targets?.[i] ?? element, instance));
  }
}

/** `valueFoo` where `value[x]` allows other types: say which. */
function choiceHint(elements: ElementNode[], name: string): string {
  const choice = elements.find((e) => e.isChoice && name.startsWith(e.name.slice(0, -3)) && /^[A-Z]/.test(name.slice(e.name.length - 3)));
  if (!choice) return '';
  return ` (${choice.name} allows ${choice.types.map((t) => choice.name.slice(0, -3) + upperFirst(t.code)).join(', ')})`;
}

/** One occurrence of an element: its value against its type, then the element's own rules. */
export function walkInstance(ctx: WalkContext, element: ElementNode, instance: Instance): void {
  const { type, path, value } = instance;
  let node = element;
  if (ctx.structures.isPrimitive(type)) {
    walkPrimitive(ctx, node, instance);
    return;
  }
  if (!isObject(value)) {
    report(ctx, 'error', 'structure', path, `${path} must be a JSON object (a ${type}), found ${describe(value)}`);
    return;
  }
  if (RESOURCE_TYPES.has(type) || isResourceStructure(ctx, type)) {
    validateNestedResource(ctx, node, value, path);
    return;
  }
  if (type === 'Extension') node = extensionDefinition(ctx, node, value, path);
  walkObject(ctx, node, type, value, path);
  checkFixedAndPattern(ctx, node, value, path);
  checkBinding(ctx, node, type, value, path);
  if (type === 'Reference') checkReference(ctx, node, value, path);
  checkInvariants(ctx, node, ctx.structures.typeStructure(node, type)?.root, value, path);
}

function isResourceStructure(ctx: WalkContext, type: string): boolean {
  return ctx.structures.definitions.typeDefinition(type)?.kind === 'resource';
}

function walkPrimitive(ctx: WalkContext, node: ElementNode, instance: Instance): void {
  const { type, path, value, ext } = instance;
  if (value !== undefined) {
    const problem = primitiveProblem(primitiveRule(ctx.structures, type), value, node.maxLength);
    if (problem) {
      report(ctx, 'error', 'value', path, `${path}: ${problem}`);
      return;
    }
    checkFixedAndPattern(ctx, node, value, path);
    checkBinding(ctx, node, type, value, path);
    checkPrimitiveInvariants(ctx, node, value, path);
  }
  if (ext) {
    const typeRoot = ctx.structures.type(type)?.root;
    if (typeRoot) walkObject(ctx, typeRoot, type, ext, path);
  }
  // ele-1 (every element has a value or children), natively: a primitive with neither is `_x: {}` or `{id}`.
  if (value === undefined && (!ext || Object.keys(ext).every((k) => k === 'id'))) {
    report(ctx, 'error', 'invariant', path, `ele-1: All FHIR elements must have a @value or children (${path})`);
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `the ${typeof value} ${JSON.stringify(value)}`;
}
