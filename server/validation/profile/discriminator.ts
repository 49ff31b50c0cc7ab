import { hasErrors, isObject, trial, type Json, type WalkContext } from './context.js';
import type { ElementNode } from './element-tree.js';
import { containsPattern, deepEqual } from './fixed-pattern.js';
import type { Instance } from './instances.js';
import { walkResource } from './resource.js';
import { upperFirst } from './structures.js';
import { walkInstance } from './walk.js';

/** A value a discriminator path selects, with its FHIR type when the JSON or the definition tells. */
interface Selected {
  value: unknown;
  type: string;
}

export const usesResolve = (path: string): boolean => path.includes('resolve()');

/** `extension('http://x.y/a.b').value` → [`extension('http://x.y/a.b')`, `value`]: dots inside quotes stay. */
function segments(path: string): string[] {
  return path.match(/(?:[^.'(]+(?:\((?:'[^']*'|[^)])*\))?)+/g) ?? [];
}

const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

/** The slice of an element's extensions that defines `url`: by the slice's profile, or its fixed url. */
function extensionSlice(ctx: WalkContext, node: ElementNode, type: string, url: string): ElementNode | undefined {
  const extension = ctx.structures.children(node, type).elements.find((e) => e.name === 'extension');
  const slice = extension?.slices.find(
    (s) =>
      s.types.some((t) => t.profiles.includes(url)) ||
      ctx.structures.children(s, 'Extension').elements.find((e) => e.name === 'url')?.fixed === url,
  );
  return slice ?? ctx.structures.structure(url)?.root;
}

/**
 * Follows a discriminator path through an occurrence's JSON and, beside it, through the slice's definition:
 * the values found and the element definition that says what they must be.
 */
function navigate(ctx: WalkContext, slice: ElementNode, instance: Instance, path: string) {
  let node: ElementNode | undefined = slice;
  let type = instance.type;
  let values: Selected[] = [{ value: instance.value, type: instance.type }];
  for (const segment of segments(path)) {
    if (segment === '$this') continue;
    const extension = /^extension\('(.*)'\)$/.exec(segment);
    const ofType = /^ofType\((.*)\)$/.exec(segment);
    if (extension) {
      const url = extension[1];
      values = values.flatMap((v) => (isObject(v.value) ? asArray(v.value.extension) : []).filter((e) => isObject(e) && e.url === url).map((e) => ({ value: e, type: 'Extension' })));
      node = node && extensionSlice(ctx, node, type, url);
      type = 'Extension';
    } else if (ofType) {
      values = values.filter((v) => v.type === ofType[1]);
      type = ofType[1];
    } else {
      const child: ElementNode | undefined = node && ctx.structures.children(node, type).elements.find((e) => e.name === segment || e.name === `${segment}[x]`);
      values = values.flatMap((v) => select(v.value, segment, child));
      node = child;
      type = child?.types.length === 1 ? child.types[0].code : (values[0]?.type ?? '');
    }
  }
  return { node, values };
}

function select(value: unknown, name: string, child: ElementNode | undefined): Selected[] {
  if (!isObject(value)) return [];
  if (child?.isChoice) {
    return child.types.flatMap((t) => asArray(value[name + upperFirst(t.code)]).map((item) => ({ value: item, type: t.code })));
  }
  return asArray(value[name]).map((item) => ({
    value: item,
    type: isObject(item) && typeof item.resourceType === 'string' ? item.resourceType : (child?.types[0]?.code ?? ''),
  }));
}

/** Whether one occurrence meets one discriminator of a slice (FHIR's value, pattern, exists, type, profile). */
export function discriminatorMatches(ctx: WalkContext, slice: ElementNode, instance: Instance, discriminator: { type: string; path: string }): boolean {
  const { node, values } = navigate(ctx, slice, instance, discriminator.path);
  if (!node) return false;
  switch (discriminator.type) {
    case 'value':
    case 'pattern': {
      if (node.fixed !== undefined) return values.some((v) => deepEqual(v.value, node.fixed));
      if (node.pattern !== undefined) return values.some((v) => containsPattern(v.value, node.pattern));
      return false;
    }
    case 'exists':
      return node.min >= 1 ? values.length > 0 : node.max === 0 ? values.length === 0 : true;
    case 'type': {
      const types = node.types.map((t) => t.code);
      return values.some((v) => types.includes(v.type));
    }
    case 'profile': {
      const profiles = node.types.flatMap((t) => t.profiles);
      return values.some((v) => profiles.some((p) => conformsTo(ctx, p, v, instance.path)));
    }
    default:
      return false;
  }
}

/** Whether a value meets a profile: walked apart, with its issues thrown away, and found free of errors. */
function conformsTo(ctx: WalkContext, profile: string, selected: Selected, path: string): boolean {
  const structure = ctx.structures.structure(profile);
  if (!structure) return false;
  const attempt = trial(ctx);
  if (isObject(selected.value) && typeof selected.value.resourceType === 'string') {
    if (selected.value.resourceType !== structure.type) return false;
    walkResource({ ...attempt, resource: selected.value as Json }, structure, selected.value, path);
  } else {
    walkInstance(attempt, structure.root, { value: selected.value, type: structure.type, path });
  }
  return !hasErrors(attempt.issues);
}
