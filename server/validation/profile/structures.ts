import type { Definitions } from '../../conformance/definitions.js';
import { compileStructure, type CompiledStructure, type ElementNode } from './element-tree.js';

/** A child element as a JSON key names it: `valueQuantity` → the `value[x]` element with type Quantity. */
export interface ChildEntry {
  element: ElementNode;
  type: string;
}

export interface ChildIndex {
  elements: ElementNode[];
  byJsonName: Map<string, ChildEntry>;
}

const EMPTY: ChildIndex = { elements: [], byJsonName: new Map() };

export const upperFirst = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * The compiled StructureDefinitions, each compiled on first use and kept: the walk asks for a type's tree and an
 * element's children once per instance, so every answer is memoized (per element node and actual type).
 */
export class Structures {
  private readonly byUrl = new Map<string, CompiledStructure | null>();
  private readonly byType = new Map<string, CompiledStructure | null>();
  private readonly childCache = new WeakMap<ElementNode, Map<string, ChildIndex>>();

  constructor(readonly definitions: Definitions) {}

  structure(url: string): CompiledStructure | undefined {
    let found = this.byUrl.get(url);
    if (found === undefined) {
      const sd = this.definitions.structureDefinition(url);
      found = sd?.snapshot ? compileStructure(sd) : null;
      this.byUrl.set(url, found);
    }
    return found ?? undefined;
  }

  /** The base definition of a type: `Patient`, `Period`, `string`. */
  type(type: string): CompiledStructure | undefined {
    let found = this.byType.get(type);
    if (found === undefined) {
      const sd = this.definitions.typeDefinition(type);
      found = sd?.snapshot ? (this.structure(sd.url) ?? null) : null;
      this.byType.set(type, found);
    }
    return found ?? undefined;
  }

  isPrimitive(type: string): boolean {
    return this.definitions.typeDefinition(type)?.kind === 'primitive-type' || type.startsWith('http://hl7.org/fhirpath/');
  }

  /** The structure an instance of `type` at `node` conforms to: the type's profile when the element names one. */
  typeStructure(node: ElementNode, type: string): CompiledStructure | undefined {
    for (const ref of node.types) {
      if (ref.code !== type) continue;
      for (const profile of ref.profiles) {
        const structure = this.structure(profile);
        if (structure) return structure;
      }
    }
    return this.type(type);
  }

  /**
   * The elements an instance of `type` at `node` may hold: the snapshot's own children of the node where the
   * profile constrains them, and the type's (or type profile's) definition for all others.
   */
  children(node: ElementNode, type: string): ChildIndex {
    let perType = this.childCache.get(node);
    if (!perType) this.childCache.set(node, (perType = new Map()));
    let index = perType.get(type);
    if (!index) {
      index = this.buildChildren(node, type);
      perType.set(type, index);
    }
    return index;
  }

  private buildChildren(node: ElementNode, type: string): ChildIndex {
    if (node.contentReference) {
      const target = node.structure.byId.get(node.contentReference.replace(/^.*#/, ''));
      return target ? this.children(target, type) : EMPTY;
    }
    const own = node.children.length ? node.children : (node.sliceOf?.children ?? []);
    const typeStructure = this.typeStructure(node, type);
    const inherited = typeStructure && typeStructure.root !== node ? this.children(typeStructure.root, type).elements : [];
    if (!own.length && !inherited.length) return EMPTY;
    const byName = new Map<string, ElementNode>();
    for (const element of inherited) byName.set(element.name, element);
    for (const element of own) byName.set(element.name, element);
    const elements = [...byName.values()];
    const byJsonName = new Map<string, ChildEntry>();
    for (const element of elements) {
      if (element.isChoice) {
        const stem = element.name.slice(0, -3);
        for (const ref of element.types) byJsonName.set(stem + upperFirst(ref.code), { element, type: ref.code });
      } else if (element.types.length) {
        byJsonName.set(element.name, { element, type: element.types[0].code });
      } else if (element.contentReference) {
        // `Questionnaire.item.item` → `#Questionnaire.item`: typed as the element it repeats.
        const target = element.structure.byId.get(element.contentReference.replace(/^.*#/, ''));
        if (target?.types.length) byJsonName.set(element.name, { element, type: target.types[0].code });
      }
    }
    return { elements, byJsonName };
  }
}
