import { describe, expect, it } from '@jest/globals';
import { errors, errorsAt, validate } from './validator.js';

const BIRTH_PLACE = 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace';

describe('profile validator: contained and Bundle resources', () => {
  it('validates a contained resource against its own type, with its location', () => {
    const resource = {
      resourceType: 'Patient',
      contained: [{ resourceType: 'Practitioner', id: 'gp', gender: 'mal' }],
      generalPractitioner: [{ reference: '#gp' }],
    };
    expect(errorsAt(validate(resource))).toEqual(['code-invalid @ Patient.contained[0].ofType(Practitioner).gender']);
  });

  it('dom-3: a contained resource nothing refers to', () => {
    const resource = { resourceType: 'Patient', contained: [{ resourceType: 'Practitioner', id: 'gp' }] };
    expect(errors(validate(resource)).map((i) => i.diagnostics.slice(0, 6))).toEqual(['dom-3:']);
  });

  it('validates Bundle entries, each as its own %resource', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { fullUrl: 'urn:uuid:6f0e3e8a-1d7b-4f5c-9a2e-3b4c5d6e7f80', resource: { resourceType: 'Patient', contact: [{ gender: 'male' }] } },
        { fullUrl: 'urn:uuid:6f0e3e8a-1d7b-4f5c-9a2e-3b4c5d6e7f81', resource: { resourceType: 'Patient', birthDate: '2020-13-45' } },
      ],
    };
    expect(errorsAt(validate(bundle))).toEqual([
      'invariant @ Bundle.entry[0].resource.ofType(Patient).contact[0]',
      'value @ Bundle.entry[1].resource.ofType(Patient).birthDate',
    ]);
  });

  it('a nested resource of no known type is an error, not a crash', () => {
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Nope' } }] };
    expect(errorsAt(validate(bundle))).toEqual(['structure @ Bundle.entry[0].resource']);
  });
});

describe('profile validator: extensions', () => {
  it('validates an extension against its StructureDefinition: birthPlace takes an Address', () => {
    expect(errors(validate({ resourceType: 'Patient', extension: [{ url: BIRTH_PLACE, valueAddress: { city: 'Toronto' } }] }))).toEqual([]);
    const issues = errors(validate({ resourceType: 'Patient', extension: [{ url: BIRTH_PLACE, valueString: 'Toronto' }] }));
    expect(issues.map((i) => i.expression?.[0])).toContain('Patient.extension[0].valueString');
    expect(issues.find((i) => i.expression?.[0] === 'Patient.extension[0].valueString')?.diagnostics).toContain('valueAddress');
  });

  it('validates extensions on primitives (in _name)', () => {
    const _birthDate = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '2020-01-01T10:00:00Z' }] };
    expect(errors(validate({ resourceType: 'Patient', birthDate: '2020-01-01', _birthDate }))).toEqual([]);
    const wrong = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueBoolean: true }] };
    expect(errorsAt(validate({ resourceType: 'Patient', birthDate: '2020-01-01', _birthDate: wrong }))).toContain('structure @ Patient.birthDate.extension[0].valueBoolean');
  });

  it('an unknown extension is information; an unknown modifierExtension is an error', () => {
    const unknown = [{ url: 'http://example.org/fhir/StructureDefinition/shoe-size', valueInteger: 44 }];
    const issues = validate({ resourceType: 'Patient', extension: unknown });
    expect(errors(issues)).toEqual([]);
    expect(issues.filter((i) => i.expression?.[0] === 'Patient.extension[0]').map((i) => i.severity)).toEqual(['information']);
    expect(errorsAt(validate({ resourceType: 'Patient', modifierExtension: unknown }))).toEqual(['structure @ Patient.modifierExtension[0]']);
  });
});
