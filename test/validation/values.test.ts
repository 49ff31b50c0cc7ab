import { describe, expect, it } from '@jest/globals';
import { errors, errorsAt, validate } from './validator.js';

describe('profile validator: primitive values', () => {
  it('checks a date against its regex, anchored to the whole value', () => {
    expect(errorsAt(validate({ resourceType: 'Patient', birthDate: '2020-13-45' }))).toEqual(['value @ Patient.birthDate']);
    expect(errorsAt(validate({ resourceType: 'Patient', birthDate: 'x2020-01-01' }))).toEqual(['value @ Patient.birthDate']);
    expect(errors(validate({ resourceType: 'Patient', birthDate: '2020-02' }))).toEqual([]);
  });

  it('Resource.id is an id: 64 characters at most', () => {
    expect(errors(validate({ resourceType: 'Patient', id: 'a'.repeat(64) }))).toEqual([]);
    expect(errorsAt(validate({ resourceType: 'Patient', id: 'a'.repeat(65) }))).toEqual(['value @ Patient.id']);
    expect(errorsAt(validate({ resourceType: 'Patient', id: 'a_b' }))).toEqual(['value @ Patient.id']);
  });

  it('checks the JSON type: booleans, integers, strings', () => {
    expect(errorsAt(validate({ resourceType: 'Patient', active: 'true' }))).toEqual(['value @ Patient.active']);
    expect(errorsAt(validate({ resourceType: 'Patient', multipleBirthInteger: 1.5 }))).toEqual(['value @ Patient.multipleBirth.ofType(integer)']);
    expect(errorsAt(validate({ resourceType: 'Patient', gender: 1 }))).toEqual(['value @ Patient.gender']);
  });

  it('positiveInt excludes 0, unsignedInt allows it', () => {
    const timing = (repeat: Record<string, unknown>) => ({ resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: { reference: 'Patient/1' }, occurrenceTiming: { repeat } });
    expect(errorsAt(validate(timing({ frequency: 0 })))).toEqual(['value @ ServiceRequest.occurrence.ofType(Timing).repeat.frequency']);
    expect(errors(validate(timing({ frequency: 1, offset: 0, when: ['MORN'] })))).toEqual([]);
  });

  it('code: no leading or double spaces; strings may hold non-breaking spaces', () => {
    expect(errorsAt(validate({ resourceType: 'Patient', gender: ' male' }))).toContain('value @ Patient.gender');
    expect(errors(validate({ resourceType: 'Patient', name: [{ text: 'Anne\u00a0Marie' }] }))).toEqual([]);
  });
});
