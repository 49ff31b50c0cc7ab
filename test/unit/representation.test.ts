import type { Observation } from 'fhir/r4';
import { shapeResource } from '../../server/rest/representation.js';

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
