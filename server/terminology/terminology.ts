import type { Coding } from 'fhir/r4';

/**
 * The answer to "is this code in that ValueSet?". `unknown` when it cannot be decided here: the ValueSet is not
 * one the server has, or it draws on a code system whose content the server does not hold (SNOMED CT, LOINC,
 * UCUM, …). A validator reports `false` against a required binding as an error, and `unknown` as information.
 */
export type CodeCheck =
  /** `message`: hints and warnings about a valid code (a display that is not the code's, an inactive code). */
  | { result: true; display?: string; message?: string }
  | { result: false; message: string }
  | { result: 'unknown'; message: string };

/** What validation needs of terminology (server/terminology implements it over conformance/r4 and our guide). */
export interface CodeValidator {
  validateCode(valueSetUrl: string, coding: Pick<Coding, 'system' | 'code' | 'display' | 'version'>, options?: CodeCheckOptions): CodeCheck;
}

export interface CodeCheckOptions {
  /**
   * Whether abstract (notSelectable) codes are acceptable, as R4 $validate-code's `abstract` parameter says: by
   * default they are not, since a grouping concept is not meant to be recorded.
   */
  abstract?: boolean;
}
