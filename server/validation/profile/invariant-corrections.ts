/**
 * R4 invariants whose published FHIRPath a spec-conformant engine cannot evaluate, or evaluates against their
 * evident meaning, replaced by a corrected expression of the same meaning: the one a later FHIR version
 * published where there is one. Keyed by invariant key and the R4 expression, so a profile's own invariant of
 * the same key is never touched. Every correction is listed, with its reason, in docs/CONFORMANCE.md.
 */
interface Correction {
  r4: string;
  corrected: string;
}

const CORRECTIONS: Record<string, Correction> = {
  /**
   * R4 applies the function `as(canonical)` to `descendants()`, a collection; FHIRPath allows `as` on one item
   * only, and fhirpath.js refuses it. R5's dom-3 reads `ofType(canonical)` instead.
   */
  'dom-3': {
    r4: "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()",
    corrected:
      "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().ofType(canonical) | %resource.descendants().ofType(uri) | %resource.descendants().ofType(url))) or descendants().where(reference = '#').exists() or descendants().where(ofType(canonical) = '#').exists() or descendants().where(ofType(canonical) = '#').exists()).not()).trace('unmatched', id).empty()",
  },
  /**
   * `answer is Boolean` asks for the system type System.Boolean, which a FHIR `boolean` is not (FHIRPath types a
   * FHIR primitive by its FHIR type), so R4's que-7 fails every enableWhen with operator 'exists', answerBoolean
   * included. R4B and R5 test the FHIR type: `answer is boolean`.
   */
  'que-7': {
    r4: "operator = 'exists' implies (answer is Boolean)",
    corrected: "operator = 'exists' implies (answer is boolean)",
  },
  /**
   * The regexes of eld-16, eld-19 and eld-20 escape characters that need no escape (`\@`, `\'`, `\:`) or leave a
   * `]` unescaped: XML Schema and Java accept both, JavaScript's regexes in unicode mode (fhirpath.js's
   * `matches`) reject them as syntax errors, so the invariants could not be evaluated at all. Corrected: the
   * same character classes written so JavaScript accepts them (`@`, `'`, `:` bare, `\]` escaped), same meaning.
   */
  'eld-16': {
    r4: String.raw`sliceName.empty() or sliceName.matches('^[a-zA-Z0-9\\/\\-_\\[\\]\\@]+$')`,
    corrected: String.raw`sliceName.empty() or sliceName.matches('^[a-zA-Z0-9\\/\\-_\\[\\]@]+$')`,
  },
  'eld-19': {
    r4: String.raw`path.matches('[^\\s\\.,:;\\\'"\\/|?!@#$%&*()\\[\\]{}]{1,64}(\\.[^\\s\\.,:;\\\'"\\/|?!@#$%&*()\\[\\]{}]{1,64}(\\[x\\])?(\\:[^\\s\\.]+)?)*')`,
    corrected: String.raw`path.matches('[^\\s\\.,:;\'"\\/|?!@#$%&*()\\[\\]{}]{1,64}(\\.[^\\s\\.,:;\'"\\/|?!@#$%&*()\\[\\]{}]{1,64}(\\[x\\])?(:[^\\s\\.]+)?)*')`,
  },
  'eld-20': {
    r4: String.raw`path.matches('[A-Za-z][A-Za-z0-9]*(\\.[a-z][A-Za-z0-9]*(\\[x])?)*')`,
    corrected: String.raw`path.matches('[A-Za-z][A-Za-z0-9]*(\\.[a-z][A-Za-z0-9]*(\\[x\\])?)*')`,
  },
};

export function correctedExpression(key: string, expression: string): string {
  const correction = CORRECTIONS[key];
  return correction && correction.r4 === expression ? correction.corrected : expression;
}
