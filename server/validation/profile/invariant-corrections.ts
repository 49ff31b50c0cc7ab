/**
 * R4 invariants whose published FHIRPath a spec-conformant engine cannot evaluate, replaced by the expression a
 * later FHIR version corrected them to (same meaning). Keyed by invariant key and the R4 expression, so a
 * profile's own invariant of the same key is never touched.
 *
 * dom-3: R4 applies the function `as(canonical)` to `descendants()`, a collection; FHIRPath allows `as` on one
 * item only, and fhirpath.js refuses it. R5's dom-3 reads `ofType(canonical)` instead.
 */
const CORRECTIONS: Record<string, { r4: string; corrected: string }> = {
  'dom-3': {
    r4: "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()",
    corrected:
      "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().ofType(canonical) | %resource.descendants().ofType(uri) | %resource.descendants().ofType(url))) or descendants().where(reference = '#').exists() or descendants().where(ofType(canonical) = '#').exists() or descendants().where(ofType(canonical) = '#').exists()).not()).trace('unmatched', id).empty()",
  },
};

export function correctedExpression(key: string, expression: string): string {
  const correction = CORRECTIONS[key];
  return correction && correction.r4 === expression ? correction.corrected : expression;
}
