import { randomUUID } from 'node:crypto';
import type { ValueSet, ValueSetExpansionContains, ValueSetExpansionParameter } from 'fhir/r4';
import { FhirError } from '../fhir/outcome.js';
import type { Expansion, ExpansionEntry } from './expansion.js';

/** The $expand parameters this server applies (R4 ValueSet-expand). */
export interface ExpandOptions {
  /** Text the codes' displays (or codes) must match: every word a prefix of a word of the display, or of the code. */
  filter?: string;
  /** Paging over the flat expansion: at most `count` codes from `offset`; count 0 asks only for the total. */
  count?: number;
  offset?: number;
  includeDesignations?: boolean;
  /** Leave inactive codes out (a ValueSet's own compose.inactive = false already does). */
  activeOnly?: boolean;
}

/**
 * The ValueSet $expand answers: the definition's identity and `expansion` with total, offset, the parameters that
 * shaped it, and one page of codes in a stable order (the definition's). A ValueSet with a part this server cannot
 * expand is refused (R4 ValueSet-expand: "it SHALL return an error"), naming what is missing: 422 not-supported,
 * since the request is well formed and it is the server that lacks the code system.
 */
export function expandedValueSet(valueSet: ValueSet, expansion: Expansion, options: ExpandOptions): ValueSet {
  if (!expansion.complete) {
    const reasons = [...new Set(expansion.gaps.map((gap) => gap.reason))];
    throw new FhirError(422, { code: 'not-supported', diagnostics: `ValueSet ${valueSet.url ?? valueSet.id ?? '(given)'} cannot be expanded here: ${reasons.join('; ')}` });
  }
  let entries = expansion.entries;
  if (options.activeOnly) entries = entries.filter((entry) => !entry.inactive);
  if (options.filter?.trim()) entries = entries.filter(textMatcher(options.filter));
  const offset = options.offset ?? 0;
  const page = options.count === undefined ? entries.slice(offset) : entries.slice(offset, offset + options.count);
  const parameter: ValueSetExpansionParameter[] = [
    ...(options.filter !== undefined ? [{ name: 'filter', valueString: options.filter }] : []),
    ...(options.count !== undefined ? [{ name: 'count', valueInteger: options.count }] : []),
    ...(options.offset !== undefined ? [{ name: 'offset', valueInteger: options.offset }] : []),
    ...(options.activeOnly !== undefined ? [{ name: 'activeOnly', valueBoolean: options.activeOnly }] : []),
    ...(options.includeDesignations !== undefined ? [{ name: 'includeDesignations', valueBoolean: options.includeDesignations }] : []),
  ];
  return {
    resourceType: 'ValueSet',
    ...(valueSet.id ? { id: valueSet.id } : {}),
    ...(valueSet.url ? { url: valueSet.url } : {}),
    ...(valueSet.version ? { version: valueSet.version } : {}),
    ...(valueSet.name ? { name: valueSet.name } : {}),
    ...(valueSet.title ? { title: valueSet.title } : {}),
    status: valueSet.status,
    expansion: {
      identifier: `urn:uuid:${randomUUID()}`,
      timestamp: new Date().toISOString(),
      total: entries.length,
      offset,
      ...(parameter.length ? { parameter } : {}),
      ...(page.length ? { contains: page.map((entry) => contains(entry, options.includeDesignations ?? false)) } : {}),
    },
  };
}

function contains(entry: ExpansionEntry, designations: boolean): ValueSetExpansionContains {
  return {
    system: entry.system,
    ...(entry.version ? { version: entry.version } : {}),
    code: entry.code,
    ...(entry.display !== undefined ? { display: entry.display } : {}),
    ...(entry.abstract ? { abstract: true } : {}),
    ...(entry.inactive ? { inactive: true } : {}),
    ...(designations && entry.designation?.length ? { designation: entry.designation } : {}),
  };
}

/** Left matching, as the R4 filter parameter suggests ("acut ast"): each word of the filter starts a word of the display, or the code. */
function textMatcher(filter: string): (entry: ExpansionEntry) => boolean {
  const words = filter.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  return (entry) => {
    const code = entry.code.toLowerCase();
    if (words.length === 1 && code.startsWith(words[0])) return true;
    const displayWords = (entry.display ?? '').toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
    return words.every((word) => displayWords.some((d) => d.startsWith(word)));
  };
}
