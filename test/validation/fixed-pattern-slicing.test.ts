import { describe, expect, it } from '@jest/globals';
import type { ElementDefinition } from 'fhir/r4';
import { errorsAt } from './validator.js';
import { profileOf, validatorWith } from './test-profiles.js';

const URL = 'http://example.org/StructureDefinition/test-patient';
const SYSTEM = 'http://example.org/mrn';

/** A Patient profile: gender fixed, maritalStatus by pattern, identifiers sliced by system (closed, ordered). */
const validator = validatorWith((definitions) => {
  const patient = definitions.typeDefinition('Patient')!;
  const identifier = patient.snapshot!.element.find((e) => e.id === 'Patient.identifier')!;
  const slice = (name: string, system: string, min: number, max: string): ElementDefinition[] => [
    { ...identifier, id: `Patient.identifier:${name}`, sliceName: name, min, max, slicing: undefined },
    { id: `Patient.identifier:${name}.system`, path: 'Patient.identifier.system', min: 1, max: '1', type: [{ code: 'uri' }], fixedUri: system },
  ];
  return [
    profileOf(
      patient,
      URL,
      {
        'Patient.gender': { fixedCode: 'female' },
        'Patient.maritalStatus': { patternCodeableConcept: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'M' }] } },
        'Patient.identifier': { slicing: { discriminator: [{ type: 'value', path: 'system' }], rules: 'closed', ordered: true } },
      },
      [...slice('mrn', SYSTEM, 1, '1'), ...slice('other', 'http://example.org/other', 0, '*')],
    ),
  ];
});

const patient = (extra: Record<string, unknown> = {}) => ({ resourceType: 'Patient', identifier: [{ system: SYSTEM, value: '1' }], ...extra });
const check = (resource: Record<string, unknown>) => errorsAt(validator.validate(resource, URL));

describe('profile validator: fixed, pattern, slicing', () => {
  it('accepts what the profile asks for', () => {
    const married = { coding: [{ system: 'http://example.org/local', code: 'x' }, { system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'M', display: 'Married' }], text: 'Married' };
    expect(check(patient({ gender: 'female', maritalStatus: married }))).toEqual([]);
  });

  it('fixed: the value must be exactly the fixed one', () => {
    expect(check(patient({ gender: 'male' }))).toEqual(['value @ Patient.gender']);
  });

  it('pattern: the value must contain the pattern (a coding with that system and code)', () => {
    const other = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'S' }] };
    expect(check(patient({ maritalStatus: other }))).toEqual(['value @ Patient.maritalStatus']);
  });

  it("a slice's min: the mrn identifier is required", () => {
    const issues = validator.validate({ resourceType: 'Patient', identifier: [{ system: 'http://example.org/other', value: '2' }] }, URL);
    expect(errorsAt(issues)).toEqual(['required @ Patient.identifier']);
    expect(issues.find((i) => i.severity === 'error')?.diagnostics).toContain("slice 'mrn'");
  });

  it("a slice's max: one mrn only", () => {
    expect(check({ resourceType: 'Patient', identifier: [{ system: SYSTEM, value: '1' }, { system: SYSTEM, value: '2' }] })).toEqual(['structure @ Patient.identifier']);
  });

  it('closed slicing: an identifier in no slice is an error', () => {
    expect(check(patient({ identifier: [{ system: SYSTEM, value: '1' }, { system: 'http://example.org/third', value: '3' }] }))).toEqual([
      'structure @ Patient.identifier[1]',
    ]);
  });

  it('ordered slicing: slices appear in the order the profile lists them', () => {
    const identifier = [{ system: 'http://example.org/other', value: '2' }, { system: SYSTEM, value: '1' }];
    expect(check({ resourceType: 'Patient', identifier })).toEqual(['structure @ Patient.identifier[1]']);
  });

  it('open slicing (core extension slicing): unsliced items are fine', () => {
    const issues = validator.validate({ resourceType: 'Patient', extension: [{ url: 'http://example.org/unknown', valueString: 'x' }] });
    expect(errorsAt(issues)).toEqual([]);
    expect(issues.some((i) => i.severity === 'information' && i.expression?.[0] === 'Patient.extension[0]')).toBe(true);
  });
});
