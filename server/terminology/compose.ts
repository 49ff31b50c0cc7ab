import type { ValueSet, ValueSetComposeInclude, ValueSetExpansionContains } from 'fhir/r4';
import type { CodeSystemIndex, IndexedConcept } from './code-system-index.js';
import { entryKey, Expansion, type ExpansionEntry, type Gap } from './expansion.js';
import { filterTest, UnsupportedFilter } from './filters.js';

/** Where an expansion finds the code systems and the other ValueSets it draws on. */
export interface ExpansionSources {
  /** The indexed code system, whatever its content; undefined when the server has no CodeSystem of that URL. */
  codeSystem(url: string): CodeSystemIndex | undefined;
  /** The expansion of an imported ValueSet (one that is not known is an Expansion with a gap saying so). */
  valueSet(url: string): Expansion;
}

/** Names of the large external code systems a reader will recognize in a message. */
const KNOWN_SYSTEMS: Record<string, string> = {
  'http://snomed.info/sct': 'SNOMED CT',
  'http://loinc.org': 'LOINC',
  'http://unitsofmeasure.org': 'UCUM',
  'urn:ietf:bcp:47': 'BCP-47 language tags',
  'urn:ietf:bcp:13': 'MIME types',
  'http://www.nlm.nih.gov/research/umls/rxnorm': 'RxNorm',
  'urn:iso:std:iso:3166': 'ISO 3166 country codes',
  'urn:iso:std:iso:4217': 'ISO 4217 currencies',
};

export function systemName(system: string): string {
  return KNOWN_SYSTEMS[system] ? `${system} (${KNOWN_SYSTEMS[system]})` : system;
}

/**
 * The codes of a ValueSet (R4 ValueSet §4.9.5-4.9.8): an expansion it already carries is used as it is (the
 * publisher computed it, often from a code system not held here); otherwise `compose`: the union of the includes,
 * each include the intersection of its system part and its imported ValueSets, minus the excludes, without inactive
 * codes when `compose.inactive` is false. What cannot be computed here is kept as a gap, not guessed.
 */
export function expandValueSet(valueSet: ValueSet, sources: ExpansionSources): Expansion {
  if (valueSet.expansion) return fromStoredExpansion(valueSet);
  const gaps: Gap[] = [];
  const caseInsensitive = new Set<string>();
  const included = new Map<string, ExpansionEntry>();
  for (const include of valueSet.compose?.include ?? []) {
    const part = expandInclude(include, sources, caseInsensitive);
    gaps.push(...part.gaps);
    for (const entry of part.entries) if (!included.has(entryKey(entry))) included.set(entryKey(entry), entry);
  }
  for (const exclude of valueSet.compose?.exclude ?? []) {
    const part = expandInclude(exclude, sources, caseInsensitive);
    gaps.push(...part.gaps.map((gap) => ({ ...gap, exclude: true })));
    for (const entry of part.entries) included.delete(entryKey(entry));
  }
  let entries = [...included.values()];
  if (valueSet.compose?.inactive === false) entries = entries.filter((entry) => !entry.inactive);
  if (!valueSet.compose) gaps.push({ reason: `ValueSet ${valueSet.url ?? valueSet.id ?? ''} has neither compose nor expansion` });
  return new Expansion(entries, gaps, caseInsensitive);
}

function expandInclude(include: ValueSetComposeInclude, sources: ExpansionSources, caseInsensitive: Set<string>): { entries: ExpansionEntry[]; gaps: Gap[] } {
  const gaps: Gap[] = [];
  const parts: ExpansionEntry[][] = [];
  if (include.system) {
    const index = sources.codeSystem(include.system);
    if (index && !index.caseSensitive) caseInsensitive.add(include.system);
    const own = include.concept ? enumerated(include, index) : systemCodes(include, index);
    if ('gap' in own) gaps.push(own.gap);
    else parts.push(own.entries);
  }
  for (const url of include.valueSet ?? []) {
    const imported = sources.valueSet(url);
    // An include with a system keeps only that system's codes, so only gaps in that system (or any) matter.
    gaps.push(...imported.gaps.filter((gap) => !include.system || gap.system === undefined || gap.system === include.system));
    parts.push(include.system ? imported.entries.filter((entry) => entry.system === include.system) : imported.entries);
  }
  if (!parts.length) return { entries: [], gaps };
  const [first, ...rest] = parts;
  const others = rest.map((part) => new Set(part.map(entryKey)));
  return { entries: first.filter((entry) => others.every((keys) => keys.has(entryKey(entry)))), gaps };
}

/**
 * Codes listed one by one: their membership is fixed by the ValueSet, so a system not held here is no obstacle
 * (the ValueSet's displays serve). A code a complete code system lacks is not a code at all, and is left out.
 */
function enumerated(include: ValueSetComposeInclude, index: CodeSystemIndex | undefined): { entries: ExpansionEntry[] } {
  const entries: ExpansionEntry[] = [];
  for (const listed of include.concept ?? []) {
    const concept = index?.find(listed.code);
    if (!concept && index?.complete) continue;
    const entry = concept ? entryOf(index!, concept) : { system: include.system!, code: listed.code, ...(include.version ? { version: include.version } : {}) };
    if (listed.display) {
      entry.displays = [...new Set([listed.display, ...(entry.display ? [entry.display] : []), ...(entry.displays ?? [])])];
      entry.display = listed.display;
    }
    if (listed.designation) entry.designation = listed.designation;
    entries.push(entry);
  }
  return { entries };
}

/** All codes of a code system, or those its filters select: only from a complete code system of the version asked. */
function systemCodes(include: ValueSetComposeInclude, index: CodeSystemIndex | undefined): { entries: ExpansionEntry[] } | { gap: Gap } {
  const system = include.system!;
  if (!index) return { gap: { system, reason: `${systemName(system)} is not a code system this server holds` } };
  if (!index.complete) {
    const held = index.content === 'not-present' ? 'none of the codes' : `only some of the codes (content ${index.content})`;
    return { gap: { system, reason: `this server holds ${held} of ${systemName(system)}` } };
  }
  if (include.version && index.version && include.version !== index.version) {
    return { gap: { system, reason: `the ValueSet asks for version ${include.version} of ${system}, this server holds ${index.version}` } };
  }
  let tests: Array<(concept: IndexedConcept) => boolean>;
  try {
    tests = (include.filter ?? []).map((filter) => filterTest(index, filter));
  } catch (error) {
    if (error instanceof UnsupportedFilter) return { gap: { system, reason: error.message } };
    throw error;
  }
  return { entries: index.concepts.filter((concept) => tests.every((test) => test(concept))).map((concept) => entryOf(index, concept)) };
}

function entryOf(index: CodeSystemIndex, concept: IndexedConcept): ExpansionEntry {
  const designations = (concept.designation ?? []).map((d) => d.value);
  return {
    system: index.url,
    ...(index.version ? { version: index.version } : {}),
    code: concept.code,
    ...(concept.display !== undefined ? { display: concept.display } : {}),
    ...(concept.abstract ? { abstract: true } : {}),
    ...(concept.inactive ? { inactive: true } : {}),
    ...(concept.designation ? { designation: concept.designation } : {}),
    ...(designations.length ? { displays: designations } : {}),
  };
}

/** A ValueSet that carries its expansion: its codes, flattened (entries without a code only group others). */
function fromStoredExpansion(valueSet: ValueSet): Expansion {
  const entries: ExpansionEntry[] = [];
  const walk = (contains: ValueSetExpansionContains[] | undefined) => {
    for (const item of contains ?? []) {
      if (item.system && item.code) {
        entries.push({
          system: item.system,
          code: item.code,
          ...(item.version ? { version: item.version } : {}),
          ...(item.display !== undefined ? { display: item.display } : {}),
          ...(item.abstract ? { abstract: true } : {}),
          ...(item.inactive ? { inactive: true } : {}),
          ...(item.designation ? { designation: item.designation } : {}),
        });
      }
      walk(item.contains);
    }
  };
  walk(valueSet.expansion!.contains);
  const { total, offset } = valueSet.expansion!;
  const partial = (offset ?? 0) > 0 || (total !== undefined && total > entries.length);
  const gaps: Gap[] = partial ? [{ reason: `the expansion ValueSet ${valueSet.url} carries is a page of ${total} codes, not all of them` }] : [];
  return new Expansion(entries, gaps);
}
