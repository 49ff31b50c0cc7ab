import { describe, expect, it } from '@jest/globals';
import { profileOf, validatorWith } from './test-profiles.js';
import { errors, errorsAt, validate } from './validator.js';

const observation = (extra: Record<string, unknown>) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, ...extra });

describe('profile validator: bindings', () => {
  it('required: Patient.gender male is in administrative-gender, mal is not', () => {
    expect(errors(validate({ resourceType: 'Patient', gender: 'male' }))).toEqual([]);
    const issues = errors(validate({ resourceType: 'Patient', gender: 'mal' }));
    expect(issues.map((i) => `${i.code} @ ${i.expression?.[0]}`)).toEqual(['code-invalid @ Patient.gender']);
    expect(issues[0].diagnostics).toContain('administrative-gender');
  });

  it('required on a CodeableConcept: one coding from the set is enough; text only is an error', () => {
    const coding = (code: string) => ({ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code });
    const allergy = (clinicalStatus: unknown) => ({ resourceType: 'AllergyIntolerance', patient: { reference: 'Patient/1' }, clinicalStatus });
    expect(errors(validate(allergy({ coding: [{ system: 'http://example.org', code: 'z' }, coding('active')] })))).toEqual([]);
    expect(errorsAt(validate(allergy({ coding: [coding('gone')] })))).toEqual(['code-invalid @ AllergyIntolerance.clinicalStatus']);
    expect(errorsAt(validate(allergy({ text: 'active' })))).toEqual(['code-invalid @ AllergyIntolerance.clinicalStatus']);
  });

  it('required, with a coding terminology cannot decide (SNOMED CT): information, not an error, whatever the other codings', () => {
    // A test profile binds Condition.code (example binding in R4) to SNOMED CT's condition-code value set, required.
    const url = 'http://example.org/fhir/StructureDefinition/condition-required-code';
    const validator = validatorWith((definitions) => [
      profileOf(definitions.typeDefinition('Condition')!, url, { 'Condition.code': { binding: { strength: 'required', valueSet: 'http://hl7.org/fhir/ValueSet/condition-code' } } }),
    ]);
    const condition = (coding: unknown[]) => ({ resourceType: 'Condition', subject: { reference: 'Patient/1' }, code: { coding } });
    const undecided = validator.validate(condition([{ system: 'http://snomed.info/sct', code: '84114007' }, { system: 'http://example.org/local', code: 'hf' }]), url);
    expect(errors(undecided)).toEqual([]);
    expect(undecided.filter((i) => i.expression?.[0] === 'Condition.code').map((i) => i.severity)).toEqual(['information']);
    // With no SNOMED CT coding, nothing can be in the set: an error.
    expect(errorsAt(validator.validate(condition([{ system: 'http://example.org/local', code: 'hf' }]), url))).toEqual(['code-invalid @ Condition.code']);
  });

  it('extensible: a code outside the set is a warning, not an error', () => {
    const issues = validate({ resourceType: 'Patient', maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'NOPE' }] } });
    expect(errors(issues)).toEqual([]);
    expect(issues.filter((i) => i.code === 'code-invalid').map((i) => `${i.severity} @ ${i.expression?.[0]}`)).toEqual(['warning @ Patient.maritalStatus']);
  });

  it('required on a code inside a datatype: Quantity.comparator', () => {
    expect(errors(validate(observation({ valueQuantity: { value: 1, comparator: '<', system: 'http://unitsofmeasure.org', code: 'kg' } })))).toEqual([]);
    expect(errorsAt(validate(observation({ valueQuantity: { value: 1, comparator: '<<' } })))).toEqual(['code-invalid @ Observation.value.ofType(Quantity).comparator']);
  });
});

describe('profile validator: reference targets', () => {
  it('Patient.generalPractitioner may name a Practitioner, not a Patient', () => {
    expect(errors(validate({ resourceType: 'Patient', generalPractitioner: [{ reference: 'Practitioner/1' }] }))).toEqual([]);
    expect(errorsAt(validate({ resourceType: 'Patient', generalPractitioner: [{ reference: 'Patient/1' }] }))).toEqual([
      'structure @ Patient.generalPractitioner[0].reference',
    ]);
  });

  it('reads versioned and absolute references; urn:uuid cannot tell and passes', () => {
    const gp = (reference: string) => validate({ resourceType: 'Patient', generalPractitioner: [{ reference }] });
    expect(errorsAt(gp('Patient/1/_history/2'))).toHaveLength(1);
    expect(errorsAt(gp('https://example.org/fhir/Patient/1'))).toHaveLength(1);
    expect(errors(gp('https://example.org/fhir/Organization/1'))).toEqual([]);
    expect(errors(gp('urn:uuid:9d3e1c6e-2d8e-4a3b-8f1d-1b2c3d4e5f60'))).toEqual([]);
  });

  it('Reference.type must agree with the reference, and be an allowed target', () => {
    expect(errorsAt(validate({ resourceType: 'Patient', generalPractitioner: [{ reference: 'Practitioner/1', type: 'Organization' }] }))).toEqual([
      'structure @ Patient.generalPractitioner[0].type',
    ]);
    expect(errorsAt(validate({ resourceType: 'Patient', generalPractitioner: [{ type: 'Patient', identifier: { value: '1' } }] }))).toEqual([
      'structure @ Patient.generalPractitioner[0].type',
    ]);
  });

  it('#local references name a contained resource of an allowed type (ref-1: one that exists)', () => {
    const contained = [{ resourceType: 'Practitioner', id: 'gp' }, { resourceType: 'Patient', id: 'other' }];
    expect(errors(validate({ resourceType: 'Patient', contained, generalPractitioner: [{ reference: '#gp' }], link: [{ other: { reference: '#other' }, type: 'seealso' }] }))).toEqual([]);
    // #other is a Patient (wrong target), #gp2 does not exist (ref-1), and nothing names #gp any more (dom-3).
    expect(errorsAt(validate({ resourceType: 'Patient', contained, generalPractitioner: [{ reference: '#other' }], link: [{ other: { reference: '#gp2' }, type: 'seealso' }] })).sort()).toEqual([
      'invariant @ Patient',
      'invariant @ Patient.link[0].other',
      'structure @ Patient.generalPractitioner[0].reference',
    ]);
  });
});

describe('profile validator: invariants', () => {
  it('pat-1: a contact needs a name, telecom, address or organization', () => {
    expect(errors(validate({ resourceType: 'Patient', contact: [{ name: { family: 'X' } }] }))).toEqual([]);
    const issues = errors(validate({ resourceType: 'Patient', contact: [{ gender: 'male' }] }));
    expect(issues.map((i) => `${i.code} @ ${i.expression?.[0]}`)).toEqual(['invariant @ Patient.contact[0]']);
    expect(issues[0].diagnostics).toMatch(/^pat-1: /);
  });

  it("a datatype's invariants apply wherever it is used: per-1 on Period", () => {
    const period = { start: '2020-02-01', end: '2020-01-01' };
    expect(errorsAt(validate({ resourceType: 'Patient', name: [{ family: 'X', period }] }))).toEqual(['invariant @ Patient.name[0].period']);
  });

  it('ext-1: an extension has a value or extensions, not both', () => {
    const extension = [{ url: 'http://example.org/x', valueString: 'a', extension: [{ url: 'y', valueString: 'b' }] }];
    expect(errorsAt(validate({ resourceType: 'Patient', extension }))).toEqual(['invariant @ Patient.extension[0]']);
  });

  it('an invariant fhirpath cannot evaluate (resolve()) is information, not an error', () => {
    const issues = validate({ resourceType: 'CareTeam', participant: [{ member: { reference: 'Practitioner/1' }, onBehalfOf: { reference: 'Organization/1' } }] });
    expect(errors(issues)).toEqual([]);
    expect(issues.find((i) => i.diagnostics.startsWith('invariant ctm-1 not checked'))?.severity).toBe('information');
  });
});
