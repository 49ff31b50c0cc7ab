import type { Bundle, CarePlan, FhirResource } from 'fhir/r4';
import { diffResources, sectionOf, valueText } from '../../app/src/plan/diff.js';
import { historyView } from '../../app/src/plan/history.js';

const v1: CarePlan = {
  resourceType: 'CarePlan',
  id: 'ccp-p1',
  meta: { versionId: '1', lastUpdated: '2026-12-01T10:00:00Z' },
  text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">one</div>' },
  status: 'active',
  intent: 'plan',
  subject: { reference: 'Patient/p1' },
  goal: [{ reference: 'Goal/g1' }, { reference: 'Goal/g2' }],
  activity: [{ detail: { status: 'not-started', description: 'Weekly visit' } }],
};

describe('diffResources: what changed between two versions', () => {
  test('no change when only meta and the generated narrative differ', () => {
    const v2 = { ...v1, meta: { versionId: '2', lastUpdated: '2026-12-02T10:00:00Z' }, text: { status: 'generated' as const, div: '<div xmlns="http://www.w3.org/1999/xhtml">two</div>' } };
    expect(diffResources(v1, v2)).toEqual([]);
  });

  test('a changed status, an added goal first in the list, a changed activity, a new note', () => {
    const v2: CarePlan = {
      ...v1,
      status: 'on-hold',
      goal: [{ reference: 'Goal/g3' }, { reference: 'Goal/g1' }, { reference: 'Goal/g2' }],
      activity: [{ detail: { status: 'in-progress', description: 'Weekly visit' } }],
      note: [{ text: 'Paused while in hospital' }],
    };
    const changes = diffResources(v1, v2);
    expect(changes).toEqual([
      { path: 'status', kind: 'changed', before: 'active', after: 'on-hold' },
      // Compared as a set: g1 and g2 moved down a place but are unchanged.
      { path: 'goal', kind: 'added', after: { reference: 'Goal/g3' } },
      { path: 'activity[0].detail.status', kind: 'changed', before: 'not-started', after: 'in-progress' },
      { path: 'note', kind: 'added', after: [{ text: 'Paused while in hospital' }] },
    ]);
    expect(changes.map(sectionOf)).toEqual(['Status', 'Goals', 'Activities', 'Notes']);
  });

  test('a removed goal and a removed element; positional lists grow and shrink by index', () => {
    const v2: CarePlan = { ...v1, goal: [{ reference: 'Goal/g2' }], activity: [...v1.activity!, { detail: { status: 'scheduled', description: 'Pharmacist review' } }] };
    delete (v2 as Partial<CarePlan>).intent;
    expect(diffResources(v1, v2)).toEqual([
      { path: 'intent', kind: 'removed', before: 'plan' },
      { path: 'goal', kind: 'removed', before: { reference: 'Goal/g1' } },
      { path: 'activity[1]', kind: 'added', after: { detail: { status: 'scheduled', description: 'Pharmacist review' } } },
    ]);
  });

  test('values in words', () => {
    expect(valueText('on-hold')).toBe('on-hold');
    expect(valueText(3)).toBe('3');
    expect(valueText({ reference: 'Goal/g3' })).toBe('Goal/g3');
    expect(valueText({ reference: 'Goal/g3', display: 'Walk' })).toBe('Walk (Goal/g3)');
    expect(valueText([{ text: 'A note' }, { text: 'Another' }])).toBe('A note; Another');
    expect(valueText({ detail: { status: 'scheduled', performer: [{ reference: 'Practitioner/nurse' }], scheduledPeriod: { start: '2026-12-15' } } })).toBe(
      'detail (status: scheduled, performer (Practitioner/nurse), scheduledPeriod (start: 2026-12-15))',
    );
    expect(valueText({ text: 'A note' })).toBe('A note');
    expect(valueText(undefined)).toBe('');
  });
});

describe('historyView: versions with who changed them', () => {
  const version = (versionId: string, lastUpdated: string, status: CarePlan['status']): CarePlan => ({ ...v1, status, meta: { versionId, lastUpdated } });
  const history: Bundle = {
    resourceType: 'Bundle',
    type: 'history',
    entry: [version('2', '2026-12-02T10:00:00Z', 'entered-in-error'), version('10', '2026-12-05T10:00:00Z', 'entered-in-error'), version('1', '2026-12-01T10:00:00Z', 'active')].map((resource) => ({ resource })),
  };
  const provenance: FhirResource = {
    resourceType: 'Provenance',
    id: 'prov-1',
    target: [{ reference: 'CarePlan/ccp-p1/_history/2' }, { reference: 'Patient/p1' }],
    recorded: '2026-12-02T10:00:00Z',
    activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'UPDATE', display: 'revise' }] },
    reason: [{ coding: [{ code: 'EIE', display: 'entered in error' }], text: 'Recorded for the wrong patient' }],
    agent: [
      {
        type: { coding: [{ code: 'author' }] },
        who: { reference: 'Practitioner/coordinator' },
        onBehalfOf: { reference: 'Organization/host' },
      },
    ],
  };
  const provenances: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    entry: [
      { resource: provenance, search: { mode: 'match' } },
      { resource: { resourceType: 'Practitioner', id: 'coordinator', name: [{ given: ['Carmen'], family: 'Okafor' }] } as FhirResource, search: { mode: 'include' } },
    ],
  };

  test('newest first (10 after 2 as numbers), the Provenance with the version it names', () => {
    const versions = historyView('ccp-p1', history, provenances);
    expect(versions.map((v) => v.versionId)).toEqual(['10', '2', '1']);
    expect(versions[1]).toMatchObject({
      versionId: '2',
      at: '2026-12-02T10:00:00Z',
      status: 'Entered in error',
      by: 'Carmen Okafor',
      onBehalfOf: 'Organization/host',
      activity: 'revise',
      reason: 'entered in error: Recorded for the wrong patient',
    });
    expect(versions[0].by).toBeUndefined();
    expect(versions[2]).toMatchObject({ versionId: '1', status: 'Active', by: undefined, reason: undefined });
  });

  test('an unversioned target counts for the version stored at its recorded time; without Provenances only times', () => {
    const unversioned = { ...provenance, target: [{ reference: 'CarePlan/ccp-p1' }], recorded: '2026-12-01T10:00:00Z' };
    const versions = historyView('ccp-p1', history, { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: unversioned }] });
    expect(versions.map((v) => v.by)).toEqual([undefined, undefined, 'Practitioner/coordinator']);
    expect(historyView('ccp-p1', history, undefined).every((v) => v.by === undefined)).toBe(true);
    expect(historyView('ccp-p1', undefined, undefined)).toEqual([]);
  });
});
