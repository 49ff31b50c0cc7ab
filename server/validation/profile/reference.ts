import { report, type Json, type WalkContext } from './context.js';
import type { ElementNode } from './element-tree.js';

/** `Type/id`, `Type/id/_history/v`, or an absolute URL ending so: the type is the segment before the id. */
const LITERAL = /(?:^|\/)([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

const allowedCache = new WeakMap<ElementNode, string[] | null>();

/** The resource types an element's targetProfiles allow, or null when any is (Resource, or none named). */
function allowedTypes(ctx: WalkContext, node: ElementNode): string[] | null {
  let allowed = allowedCache.get(node);
  if (allowed === undefined) {
    const targets = node.types.filter((t) => t.code === 'Reference').flatMap((t) => t.targetProfiles);
    const types = targets.map((url) => ctx.structures.structure(url)?.type ?? url.slice(url.lastIndexOf('/') + 1));
    allowed = !types.length || types.includes('Resource') ? null : [...new Set(types)];
    allowedCache.set(node, allowed);
  }
  return allowed;
}

/** The resource type a reference names, 'unknown' when its form cannot tell (urn:uuid:, urn:oid:, other URLs). */
function referencedType(ctx: WalkContext, reference: string): string | undefined | 'unknown' {
  if (reference.startsWith('#')) {
    const id = reference.slice(1);
    if (!id) return ctx.resource.resourceType as string;
    // A `#id` naming no contained resource breaks ref-1, which reports it.
    return ctx.contained.get(id) ?? 'unknown';
  }
  if (reference.startsWith('urn:')) return 'unknown';
  return LITERAL.exec(reference)?.[1] ?? 'unknown';
}

/**
 * The resource type a Reference names must be one its element's targetProfiles allow (a targetProfile's
 * StructureDefinition gives its type). Reference.type, when present, must agree with the reference.
 */
export function checkReference(ctx: WalkContext, node: ElementNode, value: Json, path: string): void {
  const reference = typeof value.reference === 'string' ? value.reference : undefined;
  const declared = typeof value.type === 'string' ? value.type : undefined;
  const found = reference ? referencedType(ctx, reference) : undefined;
  const type = found === 'unknown' ? undefined : found;
  if (declared && type && declared !== type) {
    report(ctx, 'error', 'structure', `${path}.type`, `${path}.type is ${declared} but ${reference} names a ${type}`);
  }
  const allowed = allowedTypes(ctx, node);
  const actual = type ?? declared;
  if (!allowed || !actual || allowed.includes(actual)) return;
  const where = type ? `${path}.reference` : `${path}.type`;
  const what = type ? `${reference} is a ${type}` : `type ${declared}`;
  report(ctx, 'error', 'structure', where, `${where}: ${what}, but ${node.path} may refer to ${allowed.join(', ')} only`);
}
