import type { Bundle, BundleEntry, CarePlan, FhirResource } from 'fhir/r4';
import { missingReferences, planSearch } from '../../app/src/plan/includes.js';
import { localDate, REVIEW_DATE_EXTENSION, reviewState } from '../../app/src/plan/review.js';
import { plansView, timingText } from '../../app/src/plan/view-model.js';

const CCP = { coding: [{ system: 'http://ccp-exchange.org/fhir/CodeSystem/careplan-category', code: 'ccp' }] };

function searchset(matches: FhirResource[], includes: FhirResource[] = []): Bundle {
  const entry = (mode: 'match' | 'include') => (resource: FhirResource): BundleEntry => ({ resource, search: { mode } });
  return { resourceType: 'Bundle', type: 'searchset', entry: [...matches.map(entry('match')), ...includes.map(entry('include'))] };
}

const plan: CarePlan = {
  resourceType: 'CarePlan',
  id: 'ccp-p1',
  meta: { versionId: '3', lastUpdated: '2026-12-01T10:00:00Z' },
  extension: [{ url: REVIEW_DATE_EXTENSION, valueDate: '2026-11-28' }],
  status: 'active',
  intent: 'plan',
  category: [CCP],
  title: 'Eleanor’s plan',
  subject: { reference: 'Patient/p1' },
  period: { start: '2026-06-01' },
  author: { reference: 'Practitioner/coordinator' },
  goal: [{ reference: 'Goal/g1' }, { reference: 'Goal/g2', display: 'Sleep through the night' }, { reference: 'Goal/other-patients' }],
  addresses: [{ reference: 'Condition/c-resolved' }, { reference: 'Condition/c-hf' }],
  careTeam: [{ reference: 'CareTeam/team' }],
  activity: [
    {
      detail: {
        status: 'in-progress',
        description: 'Weekly home visit',
        performer: [{ reference: 'PractitionerRole/nurse-role' }],
        scheduledTiming: { repeat: { frequency: 1, period: 1, periodUnit: 'wk' } },
      },
    },
    { detail: { status: 'not-started', code: { text: 'Medication review' }, scheduledPeriod: { start: '2027-01-10', end: '2027-01-20' } } },
    { reference: { reference: 'ServiceRequest/sr1', display: 'Physiotherapy referral' } },
  ],
  note: [{ text: 'Daughter visits on Sundays' }],
};

const includes: FhirResource[] = [
  {
    resourceType: 'Goal',
    id: 'g1',
    lifecycleStatus: 'active',
    achievementStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/goal-achievement', code: 'improving' }] },
    priority: { coding: [{ code: 'high-priority', display: 'High Priority' }] },
    description: { text: 'Stay at home through the winter' },
    subject: { reference: 'Patient/p1' },
    expressedBy: { reference: 'Patient/p1' },
    startDate: '2026-06-01',
    target: [{ dueDate: '2027-03-01' }, { measure: { text: 'Falls' }, detailQuantity: { value: 0, unit: 'falls' }, dueDuration: { value: 6, unit: 'months' } }],
    addresses: [{ reference: 'Condition/c-hf' }, { reference: 'Condition/c-frailty' }],
  },
  {
    resourceType: 'Goal',
    id: 'other-patients',
    lifecycleStatus: 'active',
    description: { text: 'SOMEONE ELSE’S GOAL' },
    subject: { reference: 'Patient/p9' },
  },
  { resourceType: 'Condition', id: 'c-hf', subject: { reference: 'Patient/p1' }, code: { coding: [{ system: 'http://snomed.info/sct', code: '84114007', display: 'Heart failure' }] }, clinicalStatus: { coding: [{ code: 'active' }] }, onsetDateTime: '2019-04-02' },
  { resourceType: 'Condition', id: 'c-resolved', subject: { reference: 'Patient/p1' }, code: { text: 'Hip fracture' }, clinicalStatus: { coding: [{ code: 'resolved' }] } },
  { resourceType: 'Condition', id: 'c-frailty', subject: { reference: 'Patient/p1' }, code: { text: 'Frailty' } },
  {
    resourceType: 'CareTeam',
    id: 'team',
    status: 'active',
    name: 'Home care team',
    subject: { reference: 'Patient/p1' },
    participant: [
      { role: [{ text: 'community nurse' }], member: { reference: 'PractitionerRole/nurse-role' } },
      { role: [{ text: 'family physician' }], member: { reference: 'Practitioner/gp' }, onBehalfOf: { reference: 'Organization/primary-care' } },
      { role: [{ text: 'former nurse' }], member: { reference: 'Practitioner/left' }, period: { end: '2026-01-01' } },
      { member: { reference: 'RelatedPerson/daughter', display: 'Ann (daughter)' } },
    ],
  },
  {
    resourceType: 'PractitionerRole',
    id: 'nurse-role',
    practitioner: { reference: 'Practitioner/nurse' },
    organization: { reference: 'Organization/home-care' },
    code: [{ coding: [{ code: 'contributor', display: 'Contributor' }] }],
    telecom: [{ system: 'phone', value: '555-0100', use: 'work' }],
  },
  { resourceType: 'Practitioner', id: 'nurse', name: [{ given: ['Noah'], family: 'Tremblay' }], telecom: [{ system: 'email', value: 'noah@example.org' }, { system: 'phone', value: '555-0999', period: { end: '2020-01-01' } }] },
  { resourceType: 'Practitioner', id: 'gp', name: [{ use: 'old', text: 'Dr Old Name' }, { use: 'official', prefix: ['Dr'], given: ['Hana'], family: 'Sato' }] },
  { resourceType: 'Practitioner', id: 'coordinator', name: [{ text: 'Carmen Okafor' }] },
  { resourceType: 'Organization', id: 'home-care', name: 'Riverside Home Care' },
];

describe('plansView: a CCP search with its includes, as the plan screen shows it', () => {
  const { plan: view, plans } = plansView([searchset([plan], includes)], { today: '2026-12-07' });

  test('the plan: title, status, period, author, review overdue by 9 days (28 Nov to 7 Dec)', () => {
    expect(plans).toEqual([{ id: 'ccp-p1', title: 'Eleanor’s plan', status: 'active', statusLabel: 'Active', period: { start: '2026-06-01', end: undefined } }]);
    expect(view).toMatchObject({
      id: 'ccp-p1',
      title: 'Eleanor’s plan',
      statusLabel: 'Active',
      patient: 'Patient/p1',
      period: { start: '2026-06-01' },
      author: 'Carmen Okafor',
      review: { date: '2026-11-28', overdue: true, daysOverdue: 9 },
      notes: ['Daughter visits on Sundays'],
      versionId: '3',
    });
  });

  test('goals first, in the plan’s order; a goal not read, and another patient’s goal, shown only by the plan’s words', () => {
    expect(view!.goals).toEqual([
      {
        key: 'Goal/g1',
        description: 'Stay at home through the winter',
        priority: 'High Priority',
        lifecycleStatus: 'Active',
        achievementStatus: 'Improving',
        targets: ['by 2027-03-01', 'Falls: 0 falls, within 6 months'],
        startDate: '2026-06-01',
        addresses: ['Heart failure', 'Frailty'],
        expressedBy: 'The patient',
        unresolved: false,
      },
      { key: 'Goal/g2', description: 'Sleep through the night', lifecycleStatus: 'Unknown', targets: [], addresses: [], unresolved: true },
      { key: 'Goal/other-patients', description: 'Goal/other-patients', lifecycleStatus: 'Unknown', targets: [], addresses: [], unresolved: true },
    ]);
  });

  test('health concerns: the plan’s and its goals’, active ones first, the resolved one last', () => {
    expect(view!.concerns.map((concern) => [concern.name, concern.clinicalStatus, concern.active])).toEqual([
      ['Heart failure', 'Active', true],
      ['Frailty', undefined, true],
      ['Hip fracture', 'Resolved', false],
    ]);
    expect(view!.concerns[0].onset).toBe('2019-04-02');
  });

  test('activities: what, who is responsible, status, when', () => {
    expect(view!.activities.map(({ what, responsible, status, when }) => ({ what, responsible, status, when }))).toEqual([
      { what: 'Weekly home visit', responsible: ['Noah Tremblay'], status: 'In progress', when: 'Once a week' },
      { what: 'Medication review', responsible: [], status: 'Not started', when: '2027-01-10 to 2027-01-20' },
      { what: 'Physiotherapy referral', responsible: [], status: undefined, when: undefined },
    ]);
  });

  test('care team: current members with roles, organization and current contact details', () => {
    expect(view!.careTeams).toHaveLength(1);
    expect(view!.careTeams[0]).toMatchObject({ name: 'Home care team', status: 'Active', unresolved: false });
    expect(view!.careTeams[0].members.map(({ name, roles, organization, contact }) => ({ name, roles, organization, contact }))).toEqual([
      { name: 'Noah Tremblay', roles: ['community nurse'], organization: 'Riverside Home Care', contact: ['Phone: 555-0100 (work)', 'Email: noah@example.org'] },
      // Not included: the organization is shown as its reference.
      { name: 'Dr Hana Sato', roles: ['family physician'], organization: 'Organization/primary-care', contact: [] },
      { name: 'Ann (daughter)', roles: [], organization: undefined, contact: [] },
    ]);
  });

  test('the review is not overdue on its own day, nor for a final plan; a plan without one has none', () => {
    const withReview = (status: CarePlan['status'], date: string): CarePlan => ({ ...plan, status, extension: [{ url: REVIEW_DATE_EXTENSION, valueDate: date }] });
    expect(reviewState(withReview('active', '2026-12-07'), '2026-12-07')).toEqual({ date: '2026-12-07', overdue: false });
    expect(reviewState(withReview('active', '2026-12-06'), '2026-12-07')).toEqual({ date: '2026-12-06', overdue: true, daysOverdue: 1 });
    expect(reviewState(withReview('on-hold', '2025-12-07'), '2026-12-07')).toEqual({ date: '2025-12-07', overdue: true, daysOverdue: 365 });
    expect(reviewState(withReview('completed', '2020-01-01'), '2026-12-07')).toEqual({ date: '2020-01-01', overdue: false });
    expect(reviewState({ ...plan, extension: [] }, '2026-12-07')).toEqual({ date: undefined, overdue: false });
    expect(localDate(new Date(2026, 0, 5, 23, 59))).toBe('2026-01-05');
  });
});

describe('which plan the screen opens', () => {
  const version = (id: string, status: CarePlan['status'], lastUpdated: string): CarePlan => ({ ...plan, id, status, meta: { lastUpdated } });
  const found = searchset([
    version('old', 'completed', '2025-01-01T00:00:00Z'),
    version('newer-final', 'revoked', '2026-01-01T00:00:00Z'),
    version('draft', 'draft', '2026-02-01T00:00:00Z'),
    version('current', 'active', '2024-01-01T00:00:00Z'),
  ]);

  test('the active plan first, then drafts, then final plans newest first', () => {
    const { plan: shown, plans } = plansView([found], { today: '2026-12-07' });
    expect(shown!.id).toBe('current');
    expect(plans.map((p) => p.id)).toEqual(['current', 'draft', 'newer-final', 'old']);
  });

  test('the plan the launch named, when found; none when not (the screen then says "no access")', () => {
    expect(plansView([found], { wanted: 'old', today: '2026-12-07' }).plan!.id).toBe('old');
    expect(plansView([found], { wanted: 'elsewhere', today: '2026-12-07' }).plan).toBeUndefined();
  });

  test('a CarePlan without the CCP category and included CarePlans are not plans to show', () => {
    const notCcp = { ...plan, id: 'ordinary', category: [] };
    const { plans } = plansView([searchset([notCcp], [version('included', 'active', '2026-01-01T00:00:00Z')])], { today: '2026-12-07' });
    expect(plans).toEqual([]);
  });
});

describe('the search and what it leaves to look up', () => {
  test('one search by patient (or by id) with the includes, restricted to CCPs', () => {
    expect(planSearch({ patient: 'p1' })).toBe(
      'CarePlan?subject=Patient%2Fp1&category=http%3A%2F%2Fccp-exchange.org%2Ffhir%2FCodeSystem%2Fcareplan-category%7Cccp' +
        '&_include=CarePlan:goal&_include=CarePlan:condition&_include=CarePlan:care-team&_include=CarePlan:performer' +
        '&_include:iterate=CareTeam:participant&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:organization&_count=50',
    );
    expect(planSearch({ carePlan: 'ccp-p1' })).toMatch(/^CarePlan\?_id=ccp-p1&category=/);
  });

  test('people and organizations named but not included, by type, without duplicates or patients', () => {
    const missing = missingReferences([searchset([plan], includes)]);
    expect(Object.fromEntries(missing)).toEqual({ Organization: ['primary-care'], Practitioner: ['left'], RelatedPerson: ['daughter'] });
  });
});

test('timings in words', () => {
  expect(timingText({ repeat: { frequency: 2, period: 1, periodUnit: 'wk' } })).toBe('Twice a week');
  expect(timingText({ repeat: { frequency: 3, period: 2, periodUnit: 'd' } })).toBe('3 times every 2 days');
  expect(timingText({ code: { text: 'Every morning' } })).toBe('Every morning');
  expect(timingText({ event: ['2027-01-01T09:00:00Z'] })).toBe('2027-01-01T09:00:00Z');
  expect(timingText(undefined)).toBeUndefined();
});
