import type { DateRange } from '../../fhir/date-range.js';
import type { SearchParamDefinition } from '../../fhir/r4/search-parameter.js';

/** Comparators of number, date and quantity searches. */
export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';

/** The range a number's precision implies, as decimal strings (`100` → 99.5 to 100.5). */
export interface DecimalRange {
  low: string;
  high: string;
}

export type TokenValue = { system?: string; code?: string; text?: string; ofType?: { system?: string; code?: string; value: string } };

export type ParsedValue =
  | { type: 'string'; value: string }
  | { type: 'token'; value: TokenValue }
  | { type: 'date'; prefix: Prefix; range: DateRange }
  | { type: 'number'; prefix: Prefix; value: string; range: DecimalRange }
  | { type: 'quantity'; prefix: Prefix; value: string; range: DecimalRange; system?: string; code?: string }
  | { type: 'reference'; targetType?: string; id?: string; version?: string; url?: string; identifier?: { system?: string; value?: string } }
  | { type: 'uri'; value: string }
  | { type: 'composite'; parts: ParsedValue[] }
  | { type: 'missing'; missing: boolean };

/**
 * One search parameter occurrence: `param[:modifier]=v1,v2` — its values are alternatives (OR); occurrences of
 * the same or other parameters combine with AND.
 */
export interface ValueFilter {
  kind: 'value';
  definition: SearchParamDefinition;
  modifier?: string;
  values: ParsedValue[];
}

/** `subject:Patient.name=x`: a reference parameter whose target (of one of `targetTypes`) matches `next`. */
export interface ChainFilter {
  kind: 'chain';
  definition: SearchParamDefinition;
  targetTypes: string[];
  next: Filter;
}

/** `_has:Observation:patient:code=x`: some `sourceType` resource refers here through `definition` and matches `next`. */
export interface HasFilter {
  kind: 'has';
  sourceType: string;
  definition: SearchParamDefinition;
  next: Filter;
}

/** `_list=42`: resources that List/42 (current, not deleted) names in its entries. */
export interface ListFilter {
  kind: 'list';
  listIds: string[];
}

export type Filter = ValueFilter | ChainFilter | HasFilter | ListFilter;

/** `_include=CarePlan:care-team:CareTeam` / `_revinclude=Provenance:target`; no `param` means every reference (`*`). */
export interface Include {
  sourceType: string;
  param?: string;
  targetType?: string;
  /** `:iterate`: also applied to the resources that includes brought in. */
  iterate: boolean;
}

/** `_sort=-date`: a parameter to order by, highest first when descending. */
export interface SortKey {
  definition: SearchParamDefinition;
  descending: boolean;
}

/**
 * A keyset position: the last (next) or first (previous) row of the page just served, by rid and, in a sorted
 * search, by its sort values (text, or null when the row has no value for that key).
 */
export interface Cursor {
  direction: 'next' | 'previous';
  rid: string;
  keys?: (string | null)[];
}

export interface SearchQuery {
  /** The types searched: one for a type-level search, several (or all) for a system-level search. */
  resourceTypes: string[];
  filters: Filter[];
  count: number;
  total: 'none' | 'estimate' | 'accurate';
  /** _summary / _elements, applied to each match as on read. */
  summary?: string;
  elements?: string[];
  cursor?: Cursor;
  sort: SortKey[];
  include: Include[];
  revinclude: Include[];
  /** `GET [base]/Patient/123/CarePlan`: only resources in that compartment, by the parameters that place each type there. */
  compartment?: { type: string; id: string; params: Record<string, string[]> };
  /** Parameters the server did not use, with why; reported to the client (or a 400 with `handling=strict`). */
  ignored: { name: string; reason: string }[];
  /**
   * What the caller may see, per resource type (server/access): a row of a type listed here must meet one of
   * its alternatives; types not listed are not restricted. Part of the SQL, so totals and pages hide the rest.
   */
  access?: Record<string, AccessAlternative[]>;
  /** What `_include`/`_revinclude` may bring in: only these types, restricted like `access`. Absent: anything. */
  includeAccess?: { types: string[]; access?: Record<string, AccessAlternative[]> };
  /**
   * Registrations and consent directives holding a partner back (server/access/consent-gate.ts): rows of the
   * gated types, matched, included, or reached by chains and `_has`, must be ones the partner may see.
   */
  consent?: ConsentGate;
}

/** A partner caller as the consent rules see it, and the level of access the request needs. */
export interface ConsentGate {
  organization?: string;
  practitioner?: string;
  /** The user's PractitionerRole, to which override notices are addressed. */
  practitionerRole?: string;
  /**
   * The caller holds the privacy-contact role: their organization's overrides, the overrides named in the notices
   * sent to them, and the directives of the patients whose plans their organization takes part in are theirs to
   * see (and the directives to record and end), whatever the directives say (docs/CONSENT.md).
   */
  privacyContact?: boolean;
  level: 'view' | 'modify';
}

/** One way of seeing rows of a type: every filter holds, and the row is in the patient's compartment if given. */
export interface AccessAlternative {
  filters: Filter[];
  patientCompartment?: { id: string; params: Record<string, string[]> };
}
