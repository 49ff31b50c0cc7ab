import type { CodeSystem, Parameters, ValueSet } from 'fhir/r4';
import type { Definitions } from '../conformance/definitions.js';
import { FhirError, notFound } from '../fhir/outcome.js';
import { checkInCodeSystem, checkInExpansion, type CodingInput } from './check-code.js';
import { CodeSystemIndex } from './code-system-index.js';
import { expandValueSet, type ExpansionSources } from './compose.js';
import { type ExpandOptions, expandedValueSet } from './expanded-value-set.js';
import { Expansion } from './expansion.js';
import { lookupParameters } from './lookup.js';
import type { CodeCheck, CodeCheckOptions, CodeValidator } from './terminology.js';

export type SubsumptionOutcome = 'equivalent' | 'subsumes' | 'subsumed-by' | 'not-subsumed';

/** The terminology the server answers from its definitions (R4 core and the CCP guide), locally. */
export interface Terminology extends CodeValidator {
  /**
   * A ValueSet with its expansion (`url` of a known ValueSet, or a ValueSet resource). Unknown URL → 404; a ValueSet
   * that draws on a code system not held here → 422 not-supported naming it.
   */
  expand(valueSet: string | ValueSet, options?: ExpandOptions): ValueSet;
  /** R4 CodeSystem $lookup's Parameters, in a known code system or one given as a resource; unknown system, version or code → 404. */
  lookup(system: string | CodeSystem, code: string, version?: string, properties?: string[]): Parameters;
  /** Whether the definitions hold a code system of this URL (in whole or in part). */
  knowsCodeSystem(url: string): boolean;
  /** Whether the code is in a code system: a known one by URL, or one given as a resource (not cached). */
  validateCodeInCodeSystem(system: string | CodeSystem, coding: CodingInput, options?: CodeCheckOptions): CodeCheck;
  /** Whether the code is in a ValueSet given as a resource (not cached: it may be anyone's). */
  validateCodeInValueSet(valueSet: ValueSet, coding: CodingInput, options?: CodeCheckOptions): CodeCheck;
  /** R4 CodeSystem $subsumes over the code system's hierarchy; unknown system or code → 404. */
  subsumes(system: string, codeA: string, codeB: string): SubsumptionOutcome;
  /** The known ValueSet of a canonical URL (with or without `|version`). */
  valueSet(url: string): ValueSet | undefined;
}

/**
 * Terminology over `definitions`. Expansions are cached by URL, code systems indexed once: the definitions do not
 * change while the process runs, so after the first use of a ValueSet, checking a code is a Map lookup.
 */
export function createTerminology(definitions: Definitions): Terminology {
  const indexes = new Map<string, CodeSystemIndex | null>();
  const expansions = new Map<string, Expansion>();
  const expanding = new Set<string>();

  const codeSystem = (url: string): CodeSystemIndex | undefined => {
    let index = indexes.get(url);
    if (index === undefined) {
      const resource = definitions.codeSystem(url);
      // A supplement adds designations and properties to another code system; it is not one itself.
      index = resource && resource.content !== 'supplement' ? new CodeSystemIndex(resource) : null;
      indexes.set(url, index);
    }
    return index ?? undefined;
  };

  const sources: ExpansionSources = { codeSystem, valueSet: (url) => expansionOf(url) };

  /** The cached expansion of a known ValueSet; an unknown one (or an import cycle) is all gap. */
  function expansionOf(url: string): Expansion {
    const cached = expansions.get(url);
    if (cached) return cached;
    const valueSet = definitions.valueSet(url);
    if (!valueSet) return new Expansion([], [{ reason: `ValueSet ${url} is not known here` }]);
    if (expanding.has(url)) return new Expansion([], [{ reason: `ValueSet ${url} imports itself` }]);
    expanding.add(url);
    try {
      const expansion = expandValueSet(valueSet, sources);
      expansions.set(url, expansion);
      return expansion;
    } finally {
      expanding.delete(url);
    }
  }

  const knownCodeSystem = (system: string | CodeSystem, version?: string): CodeSystemIndex => {
    const index = typeof system === 'string' ? codeSystem(system) : new CodeSystemIndex(system);
    if (!index) throw notFound(`CodeSystem ${system} is not known here`);
    if (version && index.version && version !== index.version) throw notFound(`Version ${version} of CodeSystem ${index.url} is not known here (only ${index.version})`);
    return index;
  };

  return {
    valueSet: (url) => definitions.valueSet(url),

    validateCode(valueSetUrl, coding, options = {}) {
      const expansion = expansions.get(valueSetUrl) ?? (definitions.valueSet(valueSetUrl) ? expansionOf(valueSetUrl) : undefined);
      if (!expansion) return { result: 'unknown', message: `ValueSet ${valueSetUrl} is not known here` };
      const index = coding.system ? codeSystem(coding.system) : undefined;
      return checkInExpansion(expansion, valueSetUrl, coding, options, index);
    },

    validateCodeInValueSet(valueSet, coding, options = {}) {
      const index = coding.system ? codeSystem(coding.system) : undefined;
      return checkInExpansion(expandValueSet(valueSet, sources), valueSet.url ?? 'given', coding, options, index);
    },

    validateCodeInCodeSystem(system, coding, options = {}) {
      const index = typeof system === 'string' ? codeSystem(system) : new CodeSystemIndex(system);
      const url = typeof system === 'string' ? system : system.url;
      if (!index) return { result: 'unknown', message: `CodeSystem ${url} is not known here` };
      if (coding.system && coding.system !== url) return { result: false, message: `The coding's system ${coding.system} is not ${url}` };
      return checkInCodeSystem(index, coding, options);
    },

    expand(valueSet, options = {}) {
      if (typeof valueSet === 'string') {
        const known = definitions.valueSet(valueSet);
        if (!known) throw notFound(`ValueSet ${valueSet} is not known here`);
        return expandedValueSet(known, expansionOf(valueSet), options);
      }
      return expandedValueSet(valueSet, expandValueSet(valueSet, sources), options);
    },

    knowsCodeSystem: (url) => codeSystem(url) !== undefined,

    lookup(system, code, version, properties) {
      const index = knownCodeSystem(system, version);
      const concept = index.find(code);
      if (!concept) {
        const held = index.complete ? '' : index.content === 'not-present' ? ' (this server holds none of its codes)' : ` (this server holds only some of its codes: content ${index.content})`;
        throw notFound(`${code} is not a code of ${index.url}${held}`);
      }
      return lookupParameters(index, concept, properties);
    },

    subsumes(system, codeA, codeB) {
      const index = knownCodeSystem(system);
      const a = index.find(codeA);
      const b = index.find(codeB);
      if (!a || !b) throw notFound(`${!a ? codeA : codeB} is not a code of ${system}`);
      if (index.codeSystem.hierarchyMeaning && index.codeSystem.hierarchyMeaning !== 'is-a') {
        throw new FhirError(422, { code: 'not-supported', diagnostics: `${system}'s hierarchy means ${index.codeSystem.hierarchyMeaning}, not subsumption` });
      }
      if (a.code === b.code) return 'equivalent';
      if (index.descendants(a.code).has(b.code)) return 'subsumes';
      if (index.descendants(b.code).has(a.code)) return 'subsumed-by';
      return 'not-subsumed';
    },
  };
}
