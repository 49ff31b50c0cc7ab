import type { CodeSystem, CodeSystemConcept, CodeSystemConceptDesignation, CodeSystemConceptProperty } from 'fhir/r4';

/** One concept of a code system, with its place in the hierarchy. */
export interface IndexedConcept {
  code: string;
  display?: string;
  definition?: string;
  designation?: CodeSystemConceptDesignation[];
  property?: CodeSystemConceptProperty[];
  /** Codes of the concepts this one sits under: its nesting parent and any `parent` property (or `child` of another). */
  parents: Set<string>;
  children: Set<string>;
  /** `notSelectable` (or `abstract`) = true: a grouping concept, not for use in records (R4 concept-properties). */
  abstract: boolean;
  /** `inactive` = true, or `status` retired: no longer valid. A deprecated concept is still active. */
  inactive: boolean;
}

/**
 * A CodeSystem's concepts by code, in definition order (depth first), with parents and children from both the
 * nesting of `concept` and the `parent`/`child` properties (R4 CodeSystem §4.8.10 allows either). Built once per
 * code system and kept: definitions never change while the process runs.
 */
export class CodeSystemIndex {
  readonly url: string;
  readonly version: string | undefined;
  readonly content: CodeSystem['content'];
  readonly caseSensitive: boolean;
  /** All concepts, depth first in the order the CodeSystem lists them. */
  readonly concepts: IndexedConcept[] = [];
  private readonly byCode = new Map<string, IndexedConcept>();
  private readonly byLowerCode = new Map<string, IndexedConcept>();
  /** The properties the CodeSystem declares, by code (filters may only name these, besides code/concept). */
  readonly properties: Set<string>;

  constructor(readonly codeSystem: CodeSystem) {
    this.url = codeSystem.url ?? '';
    this.version = codeSystem.version;
    this.content = codeSystem.content;
    // R4 leaves case sensitivity unstated when absent; only an explicit `false` makes codes match in any case.
    this.caseSensitive = codeSystem.caseSensitive !== false;
    this.properties = new Set((codeSystem.property ?? []).map((p) => p.code));
    const walk = (concepts: CodeSystemConcept[] | undefined, parent: string | undefined) => {
      for (const concept of concepts ?? []) {
        const indexed = this.add(concept);
        if (parent !== undefined) link(this, parent, indexed.code);
        walk(concept.concept, concept.code);
      }
    };
    walk(codeSystem.concept, undefined);
    for (const concept of this.concepts) {
      for (const property of concept.property ?? []) {
        if (property.code === 'parent' && property.valueCode) link(this, property.valueCode, concept.code);
        if (property.code === 'child' && property.valueCode) link(this, concept.code, property.valueCode);
      }
    }
  }

  private add(concept: CodeSystemConcept): IndexedConcept {
    const properties = concept.property ?? [];
    const flag = (code: string) => properties.some((p) => p.code === code && p.valueBoolean === true);
    const indexed: IndexedConcept = {
      code: concept.code,
      display: concept.display,
      definition: concept.definition,
      designation: concept.designation,
      property: concept.property,
      parents: new Set(),
      children: new Set(),
      abstract: flag('notSelectable') || flag('abstract'),
      inactive: flag('inactive') || properties.some((p) => p.code === 'status' && p.valueCode === 'retired'),
    };
    // A code listed twice (some v2 tables do) keeps its first definition.
    if (this.byCode.has(concept.code)) return this.byCode.get(concept.code)!;
    this.concepts.push(indexed);
    this.byCode.set(concept.code, indexed);
    if (!this.byLowerCode.has(concept.code.toLowerCase())) this.byLowerCode.set(concept.code.toLowerCase(), indexed);
    return indexed;
  }

  /** The concept of `code`, compared as the code system says (case-insensitive only when caseSensitive = false). */
  find(code: string): IndexedConcept | undefined {
    return this.byCode.get(code) ?? (this.caseSensitive ? undefined : this.byLowerCode.get(code.toLowerCase()));
  }

  /** Whether every code of the system is here (not-present, example and fragment hold some or none). */
  get complete(): boolean {
    return this.content === 'complete';
  }

  /** Codes strictly below `code`, depth first (cycles, which a bad definition could have, are cut). */
  descendants(code: string): Set<string> {
    return this.closure(code, (c) => c.children);
  }

  /** Codes strictly above `code`. */
  ancestors(code: string): Set<string> {
    return this.closure(code, (c) => c.parents);
  }

  private closure(code: string, next: (concept: IndexedConcept) => Set<string>): Set<string> {
    const found = new Set<string>();
    const start = this.find(code);
    const stack = start ? [...next(start)] : [];
    while (stack.length) {
      const current = stack.pop()!;
      if (found.has(current) || current === start?.code) continue;
      found.add(current);
      const concept = this.byCode.get(current);
      if (concept) stack.push(...next(concept));
    }
    return found;
  }
}

function link(index: CodeSystemIndex, parent: string, child: string): void {
  const p = index.find(parent);
  const c = index.find(child);
  if (!p || !c) return;
  p.children.add(c.code);
  c.parents.add(p.code);
}
