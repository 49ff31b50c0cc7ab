import { checkJsonRules } from '../../server/validation/json-rules.js';

const where = (resource: Record<string, unknown>): string[] => checkJsonRules(resource, 'Patient').flatMap((issue) => issue.expression ?? []);

describe('FHIR JSON rules: null only as a place holder', () => {
  it('a null lines a primitive array up with its _name companion where the companion has something', () => {
    expect(where({ resourceType: 'Patient', name: [{ given: ['A', null], _given: [null, { id: 'g2' }] }] })).toEqual([]);
  });

  it('a null in both arrays at one place says nothing, and is refused', () => {
    expect(where({ resourceType: 'Patient', name: [{ given: ['A', null], _given: [null, null] }] })).toEqual(['Patient.name[0].given[1]', 'Patient.name[0]._given[1]']);
  });

  it('a null past the end of the companion is refused', () => {
    expect(where({ resourceType: 'Patient', name: [{ given: ['A', null], _given: [null] }] })).toEqual(['Patient.name[0].given[1]']);
  });

  it('a null anywhere else is refused', () => {
    expect(where({ resourceType: 'Patient', active: null, name: [{ given: [null] }] })).toEqual(['Patient.active', 'Patient.name[0].given[0]']);
  });
});
