import { isObject, report, type Json, type WalkContext } from './context.js';
import type { CompiledStructure, ElementNode } from './element-tree.js';
import { checkInvariants } from './invariants.js';
import { walkObject } from './walk.js';

/** `id` → resourceType of a resource's contained resources: what its `#id` references may name. */
function containedTypes(resource: Json): Map<string, string> {
  const map = new Map<string, string>();
  if (Array.isArray(resource.contained)) {
    for (const item of resource.contained) {
      if (isObject(item) && typeof item.id === 'string' && typeof item.resourceType === 'string') map.set(item.id, item.resourceType);
    }
  }
  return map;
}

/** A resource against a StructureDefinition (its type's base definition or a profile), root invariants included. */
export function walkResource(ctx: WalkContext, structure: CompiledStructure, resource: Json, path: string): void {
  walkObject(ctx, structure.root, structure.type, resource, path, true);
  checkInvariants(ctx, structure.root, undefined, resource, path);
}

/**
 * A resource inside another: `contained`, `Bundle.entry.resource`, `Parameters.parameter.resource`. It is
 * walked against the base definition of its own resourceType, as the new %resource. A contained resource keeps
 * its container as %rootResource and resolves `#id` among the container's contained resources; any other
 * nested resource is a root of its own.
 */
export function validateNestedResource(ctx: WalkContext, node: ElementNode, value: Json, path: string): void {
  const type = value.resourceType;
  const structure = typeof type === 'string' ? ctx.structures.type(type) : undefined;
  if (!structure || ctx.structures.definitions.typeDefinition(structure.type)?.kind !== 'resource') {
    report(ctx, 'error', 'structure', path, `${path} must be a resource with a known resourceType, found ${JSON.stringify(type)}`);
    return;
  }
  const contained = node.name === 'contained';
  const inner: WalkContext = {
    ...ctx,
    resource: value,
    rootResource: contained ? ctx.rootResource : value,
    contained: contained ? ctx.contained : containedTypes(value),
  };
  walkResource(inner, structure, value, `${path}.ofType(${structure.type})`);
}

export function resourceContext(ctx: Omit<WalkContext, 'resource' | 'rootResource' | 'contained'>, resource: Json): WalkContext {
  return { ...ctx, resource, rootResource: resource, contained: containedTypes(resource) };
}
