/**
 * A search parameter as the server uses it, the type the official SearchParameters (search-parameters.generated.ts)
 * and custom ones (server/search/definitions.ts) are held in. Names follow the FHIR R4 search specification.
 */

export type SearchParamType = 'number' | 'date' | 'string' | 'token' | 'reference' | 'composite' | 'quantity' | 'uri' | 'special';

/** One search parameter as it applies to one resource type. */
export interface SearchParamDefinition {
  /** The name used in the URL, e.g. `patient`, `_lastUpdated`, `code-value-quantity`. */
  code: string;
  /** The resource type this definition applies to (a definition with several bases is split per base). */
  base: string;
  type: SearchParamType;
  /** The FHIRPath expression for this base only (the part of the official expression that starts at `base`). */
  expression?: string;
  /** Reference parameters: the resource types a reference may point to. */
  target?: string[];
  /** Composite parameters: the component parameters (by code on the same base) and their expressions relative to each matched element. */
  component?: { code: string; expression: string }[];
  /** Canonical URL of the SearchParameter, and its description (for the CapabilityStatement). */
  url: string;
  description?: string;
}
