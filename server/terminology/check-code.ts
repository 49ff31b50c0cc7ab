import type { Coding } from 'fhir/r4';
import type { CodeSystemIndex, IndexedConcept } from './code-system-index.js';
import type { Expansion, ExpansionEntry } from './expansion.js';
import type { CodeCheck, CodeCheckOptions } from './terminology.js';

export type CodingInput = Pick<Coding, 'system' | 'code' | 'display' | 'version'>;

/**
 * Whether `coding` is in the expansion of ValueSet `url` (R4 ValueSet $validate-code): found → true unless abstract;
 * not found → false, or `unknown` when a part of the ValueSet that could hold it was not expanded here.
 * A code without a system is looked for in every system of the ValueSet (a `code` element's binding implies it).
 */
export function checkInExpansion(expansion: Expansion, url: string, coding: CodingInput, options: CodeCheckOptions, index?: CodeSystemIndex): CodeCheck {
  const { system, code } = coding;
  if (!code) return { result: false, message: 'No code to check' };
  const entry = system ? expansion.find(system, code) : expansion.findCode(code)[0];
  const label = system ? `${system}#${code}` : `code ${code}`;
  if (entry) {
    const uncertain = expansion.gapsFor(entry.system, true);
    if (uncertain.length) return { result: 'unknown', message: `Whether ${label} is in ValueSet ${url} cannot be decided here: ${reasons(uncertain)}` };
    return accept(entry, label, coding, options);
  }
  const missing = expansion.gapsFor(system, false);
  if (missing.length) return { result: 'unknown', message: `Whether ${label} is in ValueSet ${url} cannot be decided here: ${reasons(missing)}` };
  if (system && index?.complete && !index.find(code)) return { result: false, message: `${code} is not a code of ${system}, so not in ValueSet ${url}` };
  return { result: false, message: `${label} is not in ValueSet ${url}` };
}

/** Whether `coding` is a code of the code system (R4 CodeSystem $validate-code). */
export function checkInCodeSystem(index: CodeSystemIndex, coding: CodingInput, options: CodeCheckOptions): CodeCheck {
  const { code } = coding;
  if (!code) return { result: false, message: 'No code to check' };
  const label = `${index.url}#${code}`;
  if (coding.version && index.version && coding.version !== index.version) {
    return { result: 'unknown', message: `Version ${coding.version} of ${index.url} is not held here (only ${index.version})` };
  }
  const concept = index.find(code);
  if (!concept) {
    if (!index.complete) return { result: 'unknown', message: `${code} is not among the codes of ${index.url} held here, which are not all of them (content ${index.content})` };
    return { result: false, message: `${code} is not a code of ${index.url}` };
  }
  return accept(entryOfConcept(index, concept), label, coding, options);
}

/** A code that is there: refused only when abstract; a display that is not one of the code's is a warning. */
function accept(entry: ExpansionEntry, label: string, coding: CodingInput, options: CodeCheckOptions): CodeCheck {
  if (entry.abstract && !options.abstract) {
    return { result: false, message: `${label} is abstract (not selectable): a grouping concept, not one to record` };
  }
  const hints: string[] = [];
  if (coding.display !== undefined && !displayMatches(entry, coding.display)) {
    hints.push(`The display "${coding.display}" is not a display of ${label}${entry.display ? ` (which is "${entry.display}")` : ''}`);
  }
  if (entry.inactive) hints.push(`${label} is inactive`);
  if (coding.version && entry.version && coding.version !== entry.version) hints.push(`${label} was checked against version ${entry.version}, not ${coding.version}`);
  return { result: true, ...(entry.display !== undefined ? { display: entry.display } : {}), ...(hints.length ? { message: hints.join('; ') } : {}) };
}

/** Displays compare without regard to case or runs of white space (R4 leaves case to the code system). */
function displayMatches(entry: ExpansionEntry, display: string): boolean {
  const norm = (text: string) => text.trim().replace(/\s+/g, ' ').toLowerCase();
  const wanted = norm(display);
  return [entry.display, ...(entry.displays ?? [])].some((d) => d !== undefined && norm(d) === wanted);
}

function entryOfConcept(index: CodeSystemIndex, concept: IndexedConcept): ExpansionEntry {
  return {
    system: index.url,
    version: index.version,
    code: concept.code,
    display: concept.display,
    abstract: concept.abstract,
    inactive: concept.inactive,
    displays: (concept.designation ?? []).map((d) => d.value),
  };
}

function reasons(gaps: Array<{ reason: string }>): string {
  return [...new Set(gaps.map((gap) => gap.reason))].join('; ');
}
