import { schemaValidator } from '../support/fhir-app.js';

const validate = (resource: Record<string, unknown>) => schemaValidator().validate(resource, resource.resourceType as string);
const where = (resource: Record<string, unknown>) => validate(resource).flatMap((i) => i.expression ?? []);

describe('the R4 JSON schema as the server applies it', () => {
  it('accepts extensions on canonical elements (meta._profile), which the 4.0.0 schema build forgot', () => {
    const patient = {
      resourceType: 'Patient',
      meta: { profile: ['http://example.org/p'], _profile: [{ extension: [{ url: 'http://example.org/e', valueBoolean: true }] }] },
    };
    expect(validate(patient)).toEqual([]);
    expect(where({ resourceType: 'Patient', meta: { _profile: [{ nonsense: 1 }] } })).toEqual(['Patient.meta._profile[0].nonsense']);
  });

  it('takes FHIR whitespace to be space, tab, CR and LF only: a non-breaking space is an ordinary character', () => {
    expect(validate({ resourceType: 'Patient', name: [{ text: 'Jean\u00a0Dupont' }], gender: 'male' })).toEqual([]);
    expect(validate({ resourceType: 'Observation', status: 'final', code: { coding: [{ code: 'a\u00a0b' }] } })).toEqual([]);
  });

  it('still refuses what the datatypes forbid: empty strings, doubled spaces in codes, spaces in uris and ids', () => {
    expect(where({ resourceType: 'Patient', name: [{ text: '' }] })).toEqual(['Patient.name[0].text']);
    expect(where({ resourceType: 'Observation', status: 'final', code: { coding: [{ code: 'a  b' }] } })).toEqual([
      'Observation.code.coding[0].code',
    ]);
    expect(where({ resourceType: 'Patient', implicitRules: 'http://x y' })).toEqual(['Patient.implicitRules']);
    expect(where({ resourceType: 'Patient', id: 'x'.repeat(65) })).toEqual(['Patient.id']);
  });

  it('accepts fhirVersion 4.0.1, which the 4.0.0 build did not list', () => {
    const capability = {
      resourceType: 'CapabilityStatement',
      status: 'active',
      date: '2024-01-01',
      kind: 'instance',
      fhirVersion: '4.0.1',
      format: ['json'],
    };
    expect(validate(capability)).toEqual([]);
  });
});
