import { describe, expect, it } from '@jest/globals';
import type { Issue } from '../../server/fhir/outcome.js';
import { validate } from './validator.js';

/** The issues of one invariant key, as `severity @ location`, and whether any says it was not checked. */
const byKey = (issues: Issue[], key: string) => issues.filter((i) => i.diagnostics.startsWith(`${key}:`)).map((i) => `${i.severity} @ ${i.expression?.[0]}`);
const notChecked = (issues: Issue[]) => issues.filter((i) => / not checked: /.test(i.diagnostics)).map((i) => i.diagnostics);

/** A constraint on Patient, its differential holding the element definitions under test. */
const structureDefinition = (elements: Record<string, unknown>[]) => ({
  resourceType: 'StructureDefinition',
  url: 'http://example.org/fhir/StructureDefinition/test-patient',
  name: 'TestPatient',
  status: 'draft',
  kind: 'resource',
  abstract: false,
  type: 'Patient',
  baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
  derivation: 'constraint',
  differential: { element: [{ id: 'Patient', path: 'Patient' }, ...elements] },
});

describe('R4 invariants corrected for evaluation (invariant-corrections.ts)', () => {
  it('eld-16: a sliceName outside [a-zA-Z0-9/-_[]@] is an error; the allowed characters pass', () => {
    const good = validate(structureDefinition([{ id: 'Patient.identifier:a-b_c/d@e[x]', path: 'Patient.identifier', sliceName: 'a-b_c/d@e[x]' }]));
    expect(byKey(good, 'eld-16')).toEqual([]);
    expect(notChecked(good)).toEqual([]);
    const bad = validate(structureDefinition([{ id: 'Patient.identifier:my slice', path: 'Patient.identifier', sliceName: 'my slice' }]));
    expect(byKey(bad, 'eld-16')).toEqual(['error @ StructureDefinition.differential.element[1]']);
    expect(byKey(validate(structureDefinition([{ id: 'Patient.identifier:x', path: 'Patient.identifier', sliceName: "o'brien" }])), 'eld-16')).toEqual([
      'error @ StructureDefinition.differential.element[1]',
    ]);
  });

  it('eld-19: a path with no run of allowed characters is an error (FHIRPath matches() finds the regex anywhere in the value)', () => {
    const ok = validate(structureDefinition([{ id: 'Patient.name', path: 'Patient.name' }]));
    expect(byKey(ok, 'eld-19')).toEqual([]);
    expect(notChecked(ok)).toEqual([]);
    expect(byKey(validate(structureDefinition([{ id: 'x', path: '..' }])), 'eld-19')).toEqual(['error @ StructureDefinition.differential.element[1]']);
    // matches() is not anchored: a path holding some valid segment passes eld-19 (and eld-20), as FHIRPath defines it.
    expect(byKey(validate(structureDefinition([{ id: 'x', path: 'Patient.na me' }])), 'eld-19')).toEqual([]);
  });

  it('eld-20: a path without a letter is a warning (a best-practice rule)', () => {
    expect(byKey(validate(structureDefinition([{ id: 'Patient.name', path: 'Patient.name' }])), 'eld-20')).toEqual([]);
    expect(byKey(validate(structureDefinition([{ id: 'x', path: '123' }])), 'eld-20')).toEqual(['warning @ StructureDefinition.differential.element[1]']);
  });

  it("que-7: operator 'exists' takes answerBoolean (R4's `is Boolean` asked for the system type, which fails every one)", () => {
    const questionnaire = (enableWhen: Record<string, unknown>) => ({
      resourceType: 'Questionnaire',
      status: 'draft',
      item: [
        { linkId: 'a', type: 'boolean' },
        { linkId: 'b', type: 'string', enableWhen: [{ question: 'a', operator: 'exists', ...enableWhen }] },
      ],
    });
    expect(byKey(validate(questionnaire({ answerBoolean: true })), 'que-7')).toEqual([]);
    expect(byKey(validate(questionnaire({ answerString: 'yes' })), 'que-7')).toEqual(['error @ Questionnaire.item[1].enableWhen[0]']);
  });
});
