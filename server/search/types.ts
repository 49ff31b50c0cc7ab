/**
 * The search model shared by index extraction (write time) and query compilation (read time).
 * Names follow the FHIR R4 search specification.
 */

/**
 * Index rows extracted from one resource version. Every row names its parameter code; a resource with no row
 * for a parameter is "missing" it (`:missing=true`).
 */
export interface IndexRows {
  string: StringRow[];
  token: TokenRow[];
  date: DateRow[];
  number: NumberRow[];
  quantity: QuantityRow[];
  reference: ReferenceRow[];
  uri: UriRow[];
  composite: CompositeRow[];
  /** Local references of the resource, for referential integrity on delete (server/search/index/links.ts). */
  link: LinkRow[];
}

export interface StringRow {
  param: string;
  /** Lower case, accents removed, whitespace collapsed: what default and `:contains` searches compare. */
  normalized: string;
  /** As written: what `:exact` compares. */
  exact: string;
}

export interface TokenRow {
  param: string;
  /** null when the element has no system (a bare code, or a boolean/code primitive). */
  system: string | null;
  /** null for a Coding/Identifier without code/value (still indexed, so `:missing` and `:text` work). */
  code: string | null;
  /** Normalized display/text of the CodeableConcept, Coding or Identifier type, for `:text`. */
  text?: string;
  /** Identifier.type's codings as `system|code`, for `:of-type`. */
  ofType?: string;
}

export interface DateRow {
  param: string;
  /** ISO instants bounding the span the value covers at its precision; null = open (Period without start/end). */
  low: string | null;
  high: string | null;
}

export interface NumberRow {
  param: string;
  /** The value, and the range its precision implies (100 → [99.5, 100.5)), as decimal strings. */
  value: string;
  low: string;
  high: string;
}

export interface QuantityRow {
  param: string;
  value: string;
  low: string;
  high: string;
  system: string | null;
  code: string | null;
  unit: string | null;
}

export interface ReferenceRow {
  param: string;
  /** For a literal reference resolved to this server's form: `Patient` and `123` (and a version when given). */
  targetType: string | null;
  targetId: string | null;
  targetVersion?: string | null;
  /** The reference as written when it is absolute or canonical (`http://…`, `urn:…`), for URL matching. */
  url: string | null;
  /** Reference.identifier, for `:identifier`. */
  identifierSystem?: string | null;
  identifierValue?: string | null;
}

export interface UriRow {
  param: string;
  value: string;
}

/** A reference to `targetType/targetId` on this server; `param` is the element holding it, as a FHIRPath. */
export interface LinkRow {
  param: string;
  targetType: string;
  targetId: string;
}

/** One combination of component values taken from the same element, e.g. an Observation.component's code and value. */
export interface CompositeRow {
  param: string;
  /** Component values in definition order; each is a token, quantity, string, date or number index value. */
  components: CompositeComponent[];
}

export type CompositeComponent =
  | ({ type: 'token' } & Omit<TokenRow, 'param'>)
  | ({ type: 'quantity' } & Omit<QuantityRow, 'param'>)
  | ({ type: 'string' } & Omit<StringRow, 'param'>)
  | ({ type: 'date' } & Omit<DateRow, 'param'>)
  | ({ type: 'number' } & Omit<NumberRow, 'param'>)
  | ({ type: 'uri' } & Omit<UriRow, 'param'>)
  | ({ type: 'reference' } & Omit<ReferenceRow, 'param'>);

export function emptyIndexRows(): IndexRows {
  return { string: [], token: [], date: [], number: [], quantity: [], reference: [], uri: [], composite: [], link: [] };
}
