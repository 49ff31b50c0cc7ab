import { describe, expect, it } from '@jest/globals';
import { errors, errorsAt, validate } from './validator.js';

describe('profile validator: elements, cardinality, types', () => {
  it('accepts a small valid Patient', () => {
    const issues = validate({ resourceType: 'Patient', id: 'p1', name: [{ family: 'Chalmers', given: ['Peter', 'James'] }], gender: 'male', birthDate: '1974-12-25' });
    expect(errors(issues)).toEqual([]);
  });

  it('reports a key no element defines, with its location', () => {
    expect(errorsAt(validate({ resourceType: 'Patient', nickname: 'Pete' }))).toEqual(['structure @ Patient.nickname']);
    expect(errorsAt(validate({ resourceType: 'Patient', name: [{ familyName: 'X' }] }))).toEqual(['structure @ Patient.name[0].familyName']);
  });

  it('reports a choice suffix the element does not allow, naming the allowed ones', () => {
    const issues = errors(validate({ resourceType: 'Patient', deceasedString: 'yes' }));
    expect(issues.map((i) => i.expression?.[0])).toEqual(['Patient.deceasedString']);
    expect(issues[0].diagnostics).toContain('deceasedBoolean, deceasedDateTime');
  });

  it('allows one type of a choice element at a time', () => {
    expect(errorsAt(validate({ resourceType: 'Patient', deceasedBoolean: true, deceasedDateTime: '2020-01-01' }))).toEqual([
      'structure @ Patient.deceased',
    ]);
  });

  it('checks min: Observation.status and code are 1..1', () => {
    const issues = errors(validate({ resourceType: 'Observation', code: { text: 'weight' } }));
    expect(issues.map((i) => `${i.code} @ ${i.expression?.[0]}`)).toEqual(['required @ Observation.status']);
    expect(issues[0].diagnostics).toContain('status');
  });

  it('checks max, and that a repeating element is an array and a single one is not', () => {
    expect(errorsAt(validate({ resourceType: 'Patient', gender: ['male', 'female'] }))).toContain('structure @ Patient.gender');
    expect(errorsAt(validate({ resourceType: 'Patient', name: { family: 'X' } }))).toEqual(['structure @ Patient.name']);
  });

  it('counts a primitive given by its _name companion only, and pads aligned arrays with null', () => {
    const absent = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] };
    expect(errors(validate({ resourceType: 'Observation', _status: absent, code: { text: 'x' } }))).toEqual([]);
    const patient = { resourceType: 'Patient', name: [{ given: ['A', null], _given: [null, absent] }] };
    expect(errors(validate(patient))).toEqual([]);
  });

  it('ele-1: an element with neither value nor children', () => {
    expect(errorsAt(validate({ resourceType: 'Patient', _birthDate: { id: 'x' } }))).toEqual(['invariant @ Patient.birthDate']);
    expect(errorsAt(validate({ resourceType: 'Patient', maritalStatus: { id: 'x' } }))).toEqual(['invariant @ Patient.maritalStatus']);
  });

  it('recurses into backbone elements and contentReference (Questionnaire.item.item)', () => {
    const item = (linkId: string, extra: Record<string, unknown> = {}) => ({ linkId, type: 'group', ...extra });
    const ok = { resourceType: 'Questionnaire', status: 'draft', item: [item('1', { item: [item('1.1', { item: [item('1.1.1')] })] })] };
    expect(errors(validate(ok))).toEqual([]);
    const bad = { resourceType: 'Questionnaire', status: 'draft', item: [item('1', { item: [{ type: 'group', colour: 'red' }] })] };
    expect(errorsAt(validate(bad)).sort()).toEqual(['required @ Questionnaire.item[0].item[0].linkId', 'structure @ Questionnaire.item[0].item[0].colour']);
  });

  it('never throws on input that is not a resource', () => {
    expect(errorsAt(validate({ resourceType: 'NoSuchType' }))).toHaveLength(1);
    expect(errors(validate({} as Record<string, unknown>))[0].code).toBe('required');
    expect(errors(validate({ resourceType: 'Patient', name: [null, 3, 'x'] }))).not.toEqual([]);
  });
});
