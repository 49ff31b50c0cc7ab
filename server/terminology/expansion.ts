import type { ValueSetComposeIncludeConceptDesignation } from 'fhir/r4';

/** One code of an expansion (flat: the server does not nest, so paging always applies). */
export interface ExpansionEntry {
  system: string;
  version?: string;
  code: string;
  display?: string;
  /** Not selectable: in the expansion for navigation, not a valid value (R4 ValueSet.expansion.contains.abstract). */
  abstract?: boolean;
  inactive?: boolean;
  designation?: ValueSetComposeIncludeConceptDesignation[];
  /** Other valid displays: the code system's designations and the ValueSet's own display, for checking a display. */
  displays?: string[];
}

/**
 * What could not be expanded here, and why. `system` undefined means any system (an imported ValueSet that is not
 * known). `exclude` marks a gap in what is taken out, so even codes that are in the expansion are uncertain.
 */
export interface Gap {
  system?: string;
  reason: string;
  exclude?: boolean;
}

/** A ValueSet's codes, with lookups by system and code, and what is missing from them. */
export class Expansion {
  private readonly byKey = new Map<string, ExpansionEntry>();
  private readonly byCode = new Map<string, ExpansionEntry[]>();
  /** Systems whose codes compare case-insensitively (their CodeSystem says caseSensitive = false). */
  private readonly caseInsensitive: Set<string>;

  constructor(
    readonly entries: ExpansionEntry[],
    readonly gaps: Gap[],
    caseInsensitive: Iterable<string> = [],
  ) {
    this.caseInsensitive = new Set(caseInsensitive);
    for (const entry of entries) {
      this.byKey.set(this.key(entry.system, entry.code), entry);
      const same = this.byCode.get(entry.code);
      if (same) same.push(entry);
      else this.byCode.set(entry.code, [entry]);
    }
  }

  get complete(): boolean {
    return this.gaps.length === 0;
  }

  private key(system: string, code: string): string {
    return `${system}|${this.caseInsensitive.has(system) ? code.toLowerCase() : code}`;
  }

  find(system: string, code: string): ExpansionEntry | undefined {
    return this.byKey.get(this.key(system, code));
  }

  /** Entries with this code in any system: for a bare `code` element, whose system the binding implies. */
  findCode(code: string): ExpansionEntry[] {
    return this.byCode.get(code) ?? [];
  }

  /** The gaps that leave a code of `system` undecided (present: only exclusion gaps matter). */
  gapsFor(system: string | undefined, present: boolean): Gap[] {
    return this.gaps.filter((gap) => (present ? gap.exclude : true) && (gap.system === undefined || system === undefined || gap.system === system));
  }
}

export function entryKey(entry: Pick<ExpansionEntry, 'system' | 'code'>): string {
  return `${entry.system}|${entry.code}`;
}
