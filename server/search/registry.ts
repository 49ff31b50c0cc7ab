import { R4_SEARCH_PARAMETERS } from '../fhir/r4/search-parameters.generated.js';
import type { SearchParamDefinition } from '../fhir/r4/search-parameter.js';

/** Types that are Resource but not DomainResource: parameters based on DomainResource do not apply to them. */
const NOT_DOMAIN_RESOURCES = new Set(['Binary', 'Bundle', 'Parameters']);

/**
 * The search parameters each resource type supports. Definitions based on `Resource` (and `DomainResource`) apply
 * to every (domain) resource type; a type's own definition of the same code wins over them.
 */
export class SearchParameterRegistry {
  private readonly byBase = new Map<string, Map<string, SearchParamDefinition>>();
  private readonly forTypeCache = new Map<string, SearchParamDefinition[]>();

  constructor(definitions: readonly SearchParamDefinition[]) {
    for (const definition of definitions) {
      let codes = this.byBase.get(definition.base);
      if (!codes) this.byBase.set(definition.base, (codes = new Map()));
      // A later definition replaces an earlier one, so custom SearchParameters listed after the official ones win.
      codes.set(definition.code, definition);
    }
  }

  /** Every parameter that applies to the type, its own and the Resource/DomainResource ones, each code once. */
  forType(resourceType: string): SearchParamDefinition[] {
    let result = this.forTypeCache.get(resourceType);
    if (!result) {
      const merged = new Map<string, SearchParamDefinition>();
      for (const base of this.basesOf(resourceType)) {
        for (const [code, definition] of this.byBase.get(base) ?? []) merged.set(code, definition);
      }
      result = [...merged.values()];
      this.forTypeCache.set(resourceType, result);
    }
    return result;
  }

  get(resourceType: string, code: string): SearchParamDefinition | undefined {
    for (const base of this.basesOf(resourceType).reverse()) {
      const definition = this.byBase.get(base)?.get(code);
      if (definition) return definition;
    }
    return undefined;
  }

  /** From the most general to the type itself, so that later (more specific) bases override. */
  private basesOf(resourceType: string): string[] {
    if (resourceType === 'Resource') return ['Resource'];
    if (resourceType === 'DomainResource') return ['Resource', 'DomainResource'];
    return NOT_DOMAIN_RESOURCES.has(resourceType)
      ? ['Resource', resourceType]
      : ['Resource', 'DomainResource', resourceType];
  }
}

/** The official R4 parameters; a server with custom SearchParameters builds its own registry from both lists. */
export const R4_REGISTRY = new SearchParameterRegistry(R4_SEARCH_PARAMETERS);
