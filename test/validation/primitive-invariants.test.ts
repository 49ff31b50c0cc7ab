import { describe, expect, it } from '@jest/globals';
import type { Issue } from '../../server/fhir/outcome.js';
import { validate } from './validator.js';

const byKey = (issues: Issue[], key: string) => issues.filter((i) => i.diagnostics.startsWith(`${key}:`)).map((i) => `${i.severity} @ ${i.expression?.[0]}`);

describe('profile validator: invariants of primitive elements', () => {
  const narrative = (div: string) => ({ resourceType: 'Basic', code: { text: 'x' }, text: { status: 'generated', div } });

  it('txt-2: a narrative with no non-whitespace content is an error (on Narrative.div, an xhtml primitive)', () => {
    expect(byKey(validate(narrative('<div xmlns="http://www.w3.org/1999/xhtml"><p>Seen</p></div>')), 'txt-2')).toEqual([]);
    expect(byKey(validate(narrative('<div xmlns="http://www.w3.org/1999/xhtml">\n  </div>')), 'txt-2')).toEqual(['error @ Basic.text.div']);
  });

  it('txt-1: a script element is not basic HTML', () => {
    expect(byKey(validate(narrative('<div xmlns="http://www.w3.org/1999/xhtml"><p>a</p><script>alert(1)</script></div>')), 'txt-1')).toEqual(['error @ Basic.text.div']);
  });

  it('eld-3: ElementDefinition.max is a number or *, not a negative one', () => {
    const sd = (max: string) => ({
      resourceType: 'StructureDefinition',
      url: 'http://example.org/fhir/StructureDefinition/p',
      name: 'P',
      status: 'draft',
      kind: 'resource',
      abstract: false,
      type: 'Patient',
      baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
      derivation: 'constraint',
      differential: { element: [{ id: 'Patient', path: 'Patient' }, { id: 'Patient.name', path: 'Patient.name', max }] },
    });
    expect(byKey(validate(sd('*')), 'eld-3')).toEqual([]);
    expect(byKey(validate(sd('2')), 'eld-3')).toEqual([]);
    expect(byKey(validate(sd('-1')), 'eld-3')).toEqual(['error @ StructureDefinition.differential.element[1].max']);
  });

  it("a choice element's invariant on its complex types holds on its primitive ones (ras-1 on probability[x])", () => {
    const risk = (prediction: Record<string, unknown>) => ({ resourceType: 'RiskAssessment', status: 'final', subject: { reference: 'Patient/1' }, prediction: [prediction] });
    const issues = validate(risk({ probabilityDecimal: 0.5 }));
    expect(issues.filter((i) => i.diagnostics.includes('ras-1'))).toEqual([]);
    const range = { low: { value: 1, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' }, high: { value: 2, unit: '%', system: 'http://unitsofmeasure.org', code: '%' } };
    expect(byKey(validate(risk({ probabilityRange: range })), 'ras-1')).toEqual(['error @ RiskAssessment.prediction[0].probability.ofType(Range)']);
  });
});
