import type { ElementDefinition, Resource } from 'fhir/r4';
import { type Definitions, r4Definitions } from '../../conformance/definitions.js';
import { isResourceType, isValidId } from '../../fhir/resource-types.js';

/** One reference of a resource to a resource of this server, where it is written and what the element allows. */
export interface LocalReference {
  /** The Reference element as a FHIRPath with indexes: `CarePlan.goal[1]`, `CarePlan.contained[0].subject`. */
  expression: string;
  /** As written: `Goal/g1`, `Goal/g1/_history/2`, or `[base]/Goal/g1`. */
  reference: string;
  type: string;
  id: string;
  /** The resource types the element may refer to; null when any (Reference(Any), extensions). */
  allowed: readonly string[] | null;
}

/** How a child element, as its JSON key names it, is typed. */
interface Child {
  /** The type of this key: for a choice the one its suffix names (`valueReference` → Reference). */
  code?: string;
  /** The element's own path, where a backbone element's children are defined. */
  path: string;
  /** A contentReference (`#Questionnaire.item`): the children are those of that path. */
  content?: string;
  targets: readonly string[] | null;
}

const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/**
 * Every literal reference in `resource` that names a resource of this server: `Type/id` or `[baseUrl]/Type/id`,
 * optionally versioned, with a type R4 knows. Contained references (`#x`), `urn:` and other absolute URLs,
 * conditional references and identifier-only references are not local and are left out. References inside
 * contained resources are included (they are written with the resource); those inside other nested resources
 * (a stored Bundle's entries, whose references resolve within that Bundle) are not.
 */
export function localReferences(resource: Resource, baseUrl?: string, definitions: Definitions = r4Definitions()): LocalReference[] {
  const found: LocalReference[] = [];
  const children = childrenOf(definitions);
  const visit = (node: unknown, structure: string, path: string, expression: string): void => {
    if (!node || typeof node !== 'object' || Array.isArray(node)) return;
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (key === 'resourceType' || value === null || typeof value !== 'object') continue;
      if (key.startsWith('_')) {
        // A primitive's id and extensions: an Element.
        each(value, `${expression}.${key.slice(1)}`, (item, at) => visit(item, 'Element', 'Element', at));
        continue;
      }
      const child = children(structure).get(`${path}.${key}`);
      if (!child) continue;
      const name = child.path.slice(child.path.lastIndexOf('.') + 1).replace('[x]', '');
      each(value, `${expression}.${name}`, (item, at) => {
        if (child.content) return visit(item, structure, child.content, at);
        const code = child.code;
        if (!code) return;
        if (code === 'Reference') {
          const local = parseLocal((item as { reference?: unknown }).reference, baseUrl);
          if (local) found.push({ expression: at, ...local, allowed: child.targets });
          return visit(item, 'Reference', 'Reference', at);
        }
        if (code === 'BackboneElement' || code === 'Element') return visit(item, structure, child.path, at);
        if (code === 'Resource' || isResourceType(code)) {
          const type = (item as Resource).resourceType;
          if (key === 'contained' && typeof type === 'string' && isResourceType(type)) visit(item, type, type, at);
          return;
        }
        // Primitives (lower case, or FHIRPath system types) hold no reference.
        if (/^[A-Z]/.test(code) && !code.includes('/')) visit(item, code, code, at);
      });
    }
  };
  visit(resource, resource.resourceType, resource.resourceType, resource.resourceType);
  return found;
}

/** `Type/id`, optionally versioned and optionally behind this server's base, as its type and id. */
export function parseLocal(reference: unknown, baseUrl?: string): { reference: string; type: string; id: string } | undefined {
  if (typeof reference !== 'string') return undefined;
  const relative = baseUrl && reference.startsWith(`${baseUrl}/`) ? reference.slice(baseUrl.length + 1) : reference;
  const match = RELATIVE.exec(relative);
  if (!match || !isResourceType(match[1]) || !isValidId(match[2])) return undefined;
  return { reference, type: match[1], id: match[2] };
}

function each(value: unknown, expression: string, visit: (item: unknown, expression: string) => void): void {
  if (Array.isArray(value)) value.forEach((item, i) => item !== null && typeof item === 'object' && visit(item, `${expression}[${i}]`));
  else if (typeof value === 'object') visit(value, expression);
}

const cache = new WeakMap<Definitions, Map<string, Map<string, Child>>>();

/**
 * The children of every element of a type's base definition, keyed by the path a JSON key gives
 * (`CarePlan.activity.detail.performer`, `Extension.valueReference`): built once per type from its snapshot.
 */
function childrenOf(definitions: Definitions): (type: string) => Map<string, Child> {
  let byType = cache.get(definitions);
  if (!byType) cache.set(definitions, (byType = new Map()));
  const types = byType;
  return (type) => {
    let children = types.get(type);
    if (!children) {
      children = new Map();
      for (const element of definitions.typeDefinition(type)?.snapshot?.element ?? []) addChild(children, element, definitions);
      types.set(type, children);
    }
    return children;
  };
}

function addChild(children: Map<string, Child>, element: ElementDefinition, definitions: Definitions): void {
  const path = element.path;
  if (!path.includes('.')) return;
  const targetsOf = (type: NonNullable<ElementDefinition['type']>[number]): readonly string[] | null => {
    const types = (type.targetProfile ?? []).map((url) => definitions.structureDefinition(url)?.type ?? url.slice(url.lastIndexOf('/') + 1));
    return !types.length || types.includes('Resource') ? null : types;
  };
  if (element.contentReference) {
    children.set(path, { path, content: element.contentReference.replace(/^.*#/, ''), targets: null });
    return;
  }
  const types = element.type ?? [];
  if (path.endsWith('[x]')) {
    for (const type of types) {
      const code = type.code;
      children.set(path.replace('[x]', code.charAt(0).toUpperCase() + code.slice(1)), { code, path, targets: code === 'Reference' ? targetsOf(type) : null });
    }
    return;
  }
  const reference = types.find((type) => type.code === 'Reference');
  children.set(path, { code: reference ? 'Reference' : types[0]?.code, path, targets: reference ? targetsOf(reference) : null });
}
