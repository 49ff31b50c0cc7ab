import type { Observation } from 'fhir/r4';
import { inReadingOrder, shapeResource } from '../../server/rest/representation.js';

describe('_summary on a resource as stored', () => {
  it('leaves out a backbone element of which no summary child is left, rather than sending an empty object', () => {
    // Not valid R4 (component.code is 1..1), so it cannot be written today; the shaping must not depend on that.
    const observation = {
      resourceType: 'Observation',
      id: 'o',
      status: 'final',
      code: { text: 'x' },
      component: [{ interpretation: [{ text: 'normal' }] }, { code: { text: 'kept' }, interpretation: [{ text: 'dropped' }] }],
    } as unknown as Observation;
    const summary = shapeResource(observation, { _summary: ['true'] }) as Observation;
    expect(summary.component).toEqual([{ code: { text: 'kept' } }]);

    const bare: Observation = { ...observation, component: [observation.component![0]] };
    const nothingLeft = shapeResource(bare, { _summary: ['true'] });
    expect((nothingLeft as Observation).component).toBeUndefined();
    expect((nothingLeft as Observation).status).toBe('final');
  });
});

describe('reading order (resourceType, id, meta first)', () => {
  it('sends a resource already in that order as it is, without a copy', () => {
    const ordered = { resourceType: 'Patient', id: 'p', meta: { versionId: '1' }, active: true };
    expect(inReadingOrder(ordered)).toBe(ordered);
    const noMeta = { resourceType: 'Bundle', type: 'searchset', total: 0 };
    expect(inReadingOrder(noMeta)).toBe(noMeta);
  });

  it('moves them first otherwise (the JSONB store returns keys in its own order), the rest in the order given', () => {
    const stored = { id: 'p', meta: { versionId: '1' }, active: true, resourceType: 'Patient', gender: 'other' };
    expect(JSON.stringify(inReadingOrder(stored))).toBe('{"resourceType":"Patient","id":"p","meta":{"versionId":"1"},"active":true,"gender":"other"}');
    const metaLate = { resourceType: 'Patient', id: 'p', active: true, meta: { versionId: '1' } };
    expect(Object.keys(inReadingOrder(metaLate))).toEqual(['resourceType', 'id', 'meta', 'active']);
  });
});
