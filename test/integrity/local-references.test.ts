import type { Resource } from 'fhir/r4';
import { localReferences } from '../../server/search/index/local-references.js';

const BASE = 'https://ccp.example.org/fhir';

/** Target types below are R4's, read from the specification's pages for each element. */
describe('the local references of a resource', () => {
  it('finds each with its element (FHIRPath with indexes) and the types the element allows', () => {
    const plan = {
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      subject: { reference: 'Patient/p1' },
      goal: [{ reference: 'Goal/a' }, { reference: `${BASE}/Goal/b/_history/2` }],
      note: [{ text: 'n', authorReference: { reference: 'Practitioner/9' } }],
      activity: [{ detail: { status: 'scheduled', performer: [{ reference: 'Organization/o' }] } }],
      extension: [{ url: 'http://example.org/x', valueReference: { reference: 'Device/d', identifier: { value: '1', assigner: { reference: 'Organization/z' } } } }],
      _status: { extension: [{ url: 'http://example.org/y', valueReference: { reference: 'Location/l' } }] },
    } as Resource;
    expect(localReferences(plan, BASE).map(({ expression, reference, type, id, allowed }) => [expression, reference, type, id, allowed])).toEqual([
      ['CarePlan.subject', 'Patient/p1', 'Patient', 'p1', ['Patient', 'Group']],
      ['CarePlan.goal[0]', 'Goal/a', 'Goal', 'a', ['Goal']],
      ['CarePlan.goal[1]', `${BASE}/Goal/b/_history/2`, 'Goal', 'b', ['Goal']],
      ['CarePlan.note[0].author', 'Practitioner/9', 'Practitioner', '9', ['Practitioner', 'Patient', 'RelatedPerson', 'Organization']],
      ['CarePlan.activity[0].detail.performer[0]', 'Organization/o', 'Organization', 'o', ['Practitioner', 'PractitionerRole', 'Organization', 'RelatedPerson', 'Patient', 'CareTeam', 'HealthcareService', 'Device']],
      // Extensions may refer to anything.
      ['CarePlan.extension[0].value', 'Device/d', 'Device', 'd', null],
      ['CarePlan.extension[0].value.identifier.assigner', 'Organization/z', 'Organization', 'z', ['Organization']],
      ['CarePlan.status.extension[0].value', 'Location/l', 'Location', 'l', null],
    ]);
  });

  it('follows contained resources and contentReference elements, and leaves out what is not local', () => {
    const questionnaire = {
      resourceType: 'Questionnaire',
      status: 'draft',
      contained: [{ resourceType: 'Patient', id: 'c', managingOrganization: { reference: 'Organization/o1' } }],
      item: [{ linkId: '1', type: 'group', item: [{ linkId: '2', type: 'reference', answerOption: [{ valueReference: { reference: 'Patient/q' } }] }] }],
      subjectType: ['Patient'],
    } as Resource;
    expect(localReferences(questionnaire).map((r) => r.expression)).toEqual(['Questionnaire.contained[0].managingOrganization', 'Questionnaire.item[0].item[0].answerOption[0].value']);

    const observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: '#c' },
      focus: [{ reference: 'urn:uuid:3c7d9d8e-3b5a-4d7e-9d6c-2a1b0f4e5d6c' }, { reference: 'https://elsewhere.example.org/fhir/Patient/1' }, { identifier: { value: '1' } }, { reference: 'Patient?identifier=1' }, { reference: 'NotAType/1' }],
    } as Resource;
    expect(localReferences(observation, BASE)).toEqual([]);
    // A stored Bundle's entries resolve within that Bundle: not this server's references.
    const document = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/1' } } }] } as Resource;
    expect(localReferences(document)).toEqual([]);
  });
});
