import type { ElementDefinition, ElementDefinitionConstraint, StructureDefinition } from 'fhir/r4';

/** One allowed type of an element, with the profiles it must meet and, for references, the targets it may name. */
export interface TypeRef {
  code: string;
  profiles: string[];
  targetProfiles: string[];
}

export interface Slicing {
  discriminators: { type: string; path: string }[];
  rules: 'open' | 'closed' | 'openAtEnd';
  ordered: boolean;
}

/**
 * An ElementDefinition of a snapshot, linked to its children and slices. Built once per StructureDefinition;
 * everything the walk asks of an element per instance is precomputed here.
 */
export interface ElementNode {
  id: string;
  /** The element's path in its definition (`Patient.contact`, `Period`): the base its invariants compile with. */
  path: string;
  /** The last path segment: `contact`, `value[x]`. */
  name: string;
  sliceName?: string;
  min: number;
  max: number;
  /** Whether JSON holds it as an array: from the base definition's max, which a profile cannot change. */
  isArray: boolean;
  isChoice: boolean;
  types: TypeRef[];
  contentReference?: string;
  children: ElementNode[];
  slicing?: Slicing;
  slices: ElementNode[];
  /** For a slice: the element it slices (whose children it shares when it constrains none of its own). */
  sliceOf?: ElementNode;
  /** fixed[x] and pattern[x], without their type suffix. */
  fixed?: unknown;
  pattern?: unknown;
  binding?: { strength: string; valueSet?: string };
  constraints: ElementDefinitionConstraint[];
  maxLength?: number;
  isModifier: boolean;
  /** The StructureDefinition this element belongs to (for contentReference and messages). */
  structure: CompiledStructure;
}

export interface CompiledStructure {
  url: string;
  type: string;
  root: ElementNode;
  byId: Map<string, ElementNode>;
}

const FHIR_TYPE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';

/**
 * The FHIR type of a type entry. Primitive `value` elements and `id`s are typed with FHIRPath system types in R4
 * snapshots, carrying the FHIR type as an extension. R4 types `Resource.id` as System.String with fhir-type
 * `string`, but the specification's prose and JSON schema make it an `id` (64 characters, restricted alphabet):
 * we follow the prose.
 */
function typeCode(type: NonNullable<ElementDefinition['type']>[number], basePath: string | undefined): string {
  if (basePath === 'Resource.id') return 'id';
  const fhirType = type.extension?.find((e) => e.url === FHIR_TYPE_EXTENSION)?.valueUrl;
  return fhirType ?? type.code;
}

function maxOf(max: string | undefined): number {
  return max === undefined || max === '*' ? Infinity : Number(max);
}

/** fixed[x] / pattern[x]: the one key starting with the prefix, whatever its type suffix. */
function choiceValue(element: ElementDefinition, prefix: 'fixed' | 'pattern'): unknown {
  for (const key of Object.keys(element)) {
    if (key.startsWith(prefix) && key.length > prefix.length && /[A-Z]/.test(key[prefix.length])) {
      return (element as unknown as Record<string, unknown>)[key];
    }
  }
  return undefined;
}

function nodeOf(element: ElementDefinition, structure: CompiledStructure): ElementNode {
  const path = element.path;
  const name = path.slice(path.lastIndexOf('.') + 1);
  const baseMax = element.base?.max ?? element.max;
  return {
    id: element.id ?? path,
    path,
    name,
    sliceName: element.sliceName,
    min: element.min ?? 0,
    max: maxOf(element.max),
    // A resource root and `Element.extension` style elements: an array whenever the base allows more than one.
    isArray: maxOf(baseMax) > 1,
    isChoice: name.endsWith('[x]'),
    types: (element.type ?? []).map((t) => ({
      code: typeCode(t, element.base?.path),
      profiles: t.profile ?? [],
      targetProfiles: t.targetProfile ?? [],
    })),
    contentReference: element.contentReference,
    children: [],
    slicing: element.slicing
      ? {
          discriminators: (element.slicing.discriminator ?? []).map((d) => ({ type: d.type, path: d.path })),
          rules: element.slicing.rules ?? 'open',
          ordered: element.slicing.ordered ?? false,
        }
      : undefined,
    slices: [],
    fixed: choiceValue(element, 'fixed'),
    pattern: choiceValue(element, 'pattern'),
    binding: element.binding ? { strength: element.binding.strength, valueSet: element.binding.valueSet } : undefined,
    constraints: element.constraint ?? [],
    maxLength: element.maxLength,
    isModifier: element.isModifier ?? false,
    structure,
  };
}

/**
 * The parent of an element by its id: `A.b:s.c` → `A.b:s`; a slice `A.b:s` → the sliced element `A.b`
 * (returned with `slice` set). Slice names may hold `/` (reslicing) but no `.`.
 */
function parentId(id: string): { id: string; slice: boolean } | undefined {
  const dot = id.lastIndexOf('.');
  const colon = id.lastIndexOf(':');
  if (colon > dot) return { id: id.slice(0, colon), slice: true };
  if (dot < 0) return undefined;
  return { id: id.slice(0, dot), slice: false };
}

/** Links a snapshot's elements into a tree. Elements whose parent is missing are ignored (a broken snapshot). */
export function compileStructure(sd: StructureDefinition): CompiledStructure {
  const elements = sd.snapshot?.element ?? [];
  const structure = { url: sd.url, type: sd.type, byId: new Map() } as CompiledStructure;
  for (const element of elements) {
    const node = nodeOf(element, structure);
    structure.byId.set(node.id, node);
    const parent = parentId(node.id);
    if (!parent) {
      structure.root ??= node;
      continue;
    }
    const owner = structure.byId.get(parent.id);
    if (!owner) continue;
    if (parent.slice) {
      node.sliceOf = owner;
      owner.slices.push(node);
    } else owner.children.push(node);
  }
  if (!structure.root) throw new Error(`StructureDefinition ${sd.url} has no snapshot`);
  return structure;
}
