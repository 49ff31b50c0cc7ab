import type { CarePlan, Communication, Consent, Organization, Resource, Task } from 'fhir/r4';
import { UNRESTRICTED } from '../../server/access/caller.js';
import { topicEventsOf } from '../../server/notifications/topic-events.js';
import type { WriteChange } from '../../server/rest/write-rules.js';

const AT = '2026-12-07T15:00:00.000Z';
const T = 'http://ccp-exchange.org/fhir/SubscriptionTopic';

/** The version as the store leaves it: with its id and lastUpdated. */
const stored = <R extends Resource>(resource: R, id: string): R => ({ ...resource, id, meta: { versionId: '2', lastUpdated: AT } });
const created = (resource: Resource): WriteChange => ({ interaction: 'create', resourceType: resource.resourceType, resource, caller: UNRESTRICTED });
const updated = (resource: Resource, current: Resource, interaction: 'update' | 'patch' = 'update'): WriteChange => ({
  interaction,
  resourceType: resource.resourceType,
  id: resource.id,
  resource,
  current,
  caller: UNRESTRICTED,
});

const plan = (extra: Partial<CarePlan> = {}): CarePlan => ({
  resourceType: 'CarePlan',
  status: 'active',
  intent: 'plan',
  category: [{ coding: [{ system: 'http://ccp-exchange.org/fhir/CodeSystem/careplan-category', code: 'ccp' }] }],
  subject: { reference: 'Patient/p1' },
  ...extra,
});

const task = (status: Task['status'], extra: Partial<Task> = {}): Task => ({
  resourceType: 'Task',
  status,
  intent: 'order',
  code: { coding: [{ system: 'http://ccp-exchange.org/fhir/CodeSystem/task-code', code: 'ccp-registration' }] },
  for: { reference: 'Patient/p1' },
  requester: { reference: 'Organization/org-b' },
  ...extra,
});

const directive = (status: Consent['status']): Consent => ({
  resourceType: 'Consent',
  status,
  scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
  category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
  patient: { reference: 'Patient/p1' },
  provision: { type: 'deny' },
});

const override: Consent = {
  resourceType: 'Consent',
  status: 'active',
  scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'INFA' }] }],
  patient: { reference: 'Patient/p1' },
  organization: [{ reference: 'Organization/org-b' }],
  provision: { type: 'permit', actor: [{ role: { text: 'overriding user' }, reference: { reference: 'Practitioner/u1' } }] },
};

const registration: Consent = {
  ...directive('active'),
  category: [{ coding: [{ system: 'http://ccp-exchange.org/fhir/CodeSystem/consent-category', code: 'ccp-registration' }] }],
  provision: { type: 'permit' },
};

describe('the topic events of a write', () => {
  describe('ccp-changed', () => {
    it('a CCP created, then updated or patched, is an event of its patient each time', () => {
      expect(topicEventsOf(created(plan()), stored(plan(), 'cp1'))).toEqual([
        { topic: `${T}/ccp-changed`, focus: { type: 'CarePlan', id: 'cp1' }, patient: 'p1', trigger: 'create', occurredAt: AT },
      ]);
      const current = stored(plan({ status: 'draft' }), 'cp1');
      expect(topicEventsOf(updated(plan({ id: 'cp1' }), current), stored(plan(), 'cp1'))).toEqual([
        { topic: `${T}/ccp-changed`, focus: { type: 'CarePlan', id: 'cp1' }, patient: 'p1', trigger: 'update', occurredAt: AT },
      ]);
      expect(topicEventsOf(updated(plan({ id: 'cp1' }), current, 'patch'), stored(plan(), 'cp1'))[0].trigger).toBe('update');
    });

    it('an update-as-create (no current version) is a create', () => {
      const change: WriteChange = { interaction: 'update', resourceType: 'CarePlan', id: 'cp9', resource: plan({ id: 'cp9' }), caller: UNRESTRICTED };
      expect(topicEventsOf(change, stored(plan(), 'cp9')).map((event) => event.trigger)).toEqual(['create']);
    });

    it('a draft plan that is not a CCP, a delete, and an unknown type cause none', () => {
      const draft = plan({ status: 'draft', category: [{ text: 'home care' }] });
      expect(topicEventsOf(created(draft), stored(draft, 'x1'))).toEqual([]);
      expect(topicEventsOf({ interaction: 'delete', resourceType: 'CarePlan', id: 'cp1', current: stored(plan(), 'cp1'), caller: UNRESTRICTED }, undefined)).toEqual([]);
      const goal = { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'walk' }, subject: { reference: 'Patient/p1' } } as Resource;
      expect(topicEventsOf(created(goal), stored(goal, 'g1'))).toEqual([]);
    });
  });

  describe('registration-status', () => {
    it('a request made is an event of its patient and requesting organization', () => {
      expect(topicEventsOf(created(task('requested')), stored(task('requested'), 't1'))).toEqual([
        { topic: `${T}/registration-status`, focus: { type: 'Task', id: 't1' }, patient: 'p1', organization: 'org-b', trigger: 'create', occurredAt: AT },
      ]);
    });

    it('a change of status is an update; an edit that keeps the status is not news', () => {
      const current = stored(task('requested'), 't1');
      expect(topicEventsOf(updated(task('completed', { id: 't1' }), current), stored(task('completed'), 't1'))).toEqual([
        { topic: `${T}/registration-status`, focus: { type: 'Task', id: 't1' }, patient: 'p1', organization: 'org-b', trigger: 'update', occurredAt: AT },
      ]);
      const noted = task('requested', { id: 't1', note: [{ text: 'called the patient' }] });
      expect(topicEventsOf(updated(noted, current), stored(noted, 't1'))).toEqual([]);
    });

    it('a Task that is not a registration request causes none', () => {
      const other = task('requested', { code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] } });
      expect(topicEventsOf(created(other), stored(other, 't2'))).toEqual([]);
    });
  });

  describe('directive-changed', () => {
    it('a directive recorded, then ended, is an event of its patient each time', () => {
      expect(topicEventsOf(created(directive('active')), stored(directive('active'), 'd1'))).toEqual([
        { topic: `${T}/directive-changed`, focus: { type: 'Consent', id: 'd1' }, patient: 'p1', trigger: 'create', occurredAt: AT },
      ]);
      const current = stored(directive('active'), 'd1');
      expect(topicEventsOf(updated({ ...directive('inactive'), id: 'd1' }, current), stored(directive('inactive'), 'd1'))).toEqual([
        { topic: `${T}/directive-changed`, focus: { type: 'Consent', id: 'd1' }, patient: 'p1', trigger: 'update', occurredAt: AT },
      ]);
    });

    it('an update that neither ends it nor makes it active causes none', () => {
      const current = stored(directive('active'), 'd1');
      const reworded = { ...directive('active'), id: 'd1', provision: { type: 'deny' as const, actor: [{ role: { text: 'recipient' }, reference: { reference: 'Organization/org-b' } }] } };
      expect(topicEventsOf(updated(reworded, current), stored(reworded, 'd1'))).toEqual([]);
    });

    it('a registration Consent is no directive', () => {
      expect(topicEventsOf(created(registration), stored(registration, 'r1'))).toEqual([]);
    });
  });

  describe('override-used', () => {
    it('an override created is an event of its patient and the overriding user organization', () => {
      expect(topicEventsOf(created(override), stored(override, 'o1'))).toEqual([
        { topic: `${T}/override-used`, focus: { type: 'Consent', id: 'o1' }, patient: 'p1', organization: 'org-b', trigger: 'create', occurredAt: AT },
      ]);
    });

    it('a later version of an override causes none', () => {
      const ended = { ...override, id: 'o1', status: 'inactive' as const };
      expect(topicEventsOf(updated(ended, stored(override, 'o1')), stored(ended, 'o1'))).toEqual([]);
    });
  });

  describe('organization-joined', () => {
    const organization = (active?: boolean): Organization => ({ resourceType: 'Organization', name: 'Home care', ...(active === undefined ? {} : { active }) });

    it('an Organization created active (or without active: R4 reads it as active) joins', () => {
      const joined = { topic: `${T}/organization-joined`, focus: { type: 'Organization', id: 'org-c' }, organization: 'org-c', trigger: 'joined', occurredAt: AT };
      expect(topicEventsOf(created(organization(true)), stored(organization(true), 'org-c'))).toEqual([joined]);
      expect(topicEventsOf(created(organization()), stored(organization(), 'org-c'))).toEqual([joined]);
    });

    it('an inactive one made active joins; created inactive, or renamed while active, does not', () => {
      const inactive = stored(organization(false), 'org-c');
      expect(topicEventsOf(updated({ ...organization(true), id: 'org-c' }, inactive), stored(organization(true), 'org-c')).map((e) => e.trigger)).toEqual(['joined']);
      expect(topicEventsOf(created(organization(false)), inactive)).toEqual([]);
      const renamed = { ...organization(true), id: 'org-c', name: 'Home care east' };
      expect(topicEventsOf(updated(renamed, stored(organization(true), 'org-c')), stored(renamed, 'org-c'))).toEqual([]);
    });
  });
  describe('service-notice', () => {
    const KIND = 'http://ccp-exchange.org/fhir/CodeSystem/notice-kind';
    const WINDOW = 'http://ccp-exchange.org/fhir/StructureDefinition/ccp-notice-window';
    const notice = (kind: string, status: Communication['status'], text = 'Upgrade.', window = { start: '2030-01-01T02:00:00Z', end: '2030-01-01T04:00:00Z' }): Communication => ({
      resourceType: 'Communication',
      status,
      category: [{ coding: [{ system: KIND, code: kind }] }],
      extension: [{ url: WINDOW, valuePeriod: window }],
      payload: [{ contentString: text }],
    });
    const triggers = (written: Communication, current?: Communication) =>
      topicEventsOf(current ? updated({ ...written, id: 'n1' }, stored(current, 'n1')) : created(written), stored(written, 'n1')).map((event) => event.trigger);

    it('a notice posted in progress: posted, its focus the Communication, no patient nor organization', () => {
      expect(topicEventsOf(created(notice('unplanned-outage', 'in-progress')), stored(notice('unplanned-outage', 'in-progress'), 'n1'))).toEqual([
        { topic: `${T}/service-notice`, focus: { type: 'Communication', id: 'n1' }, trigger: 'posted', occurredAt: AT },
      ]);
    });

    it('changed when its kind, window or text changes; nothing for a rewrite saying the same or a new sent time', () => {
      const before = notice('planned-downtime', 'in-progress');
      expect(triggers(notice('planned-downtime', 'in-progress', 'Upgrade, longer.'), before)).toEqual(['changed']);
      expect(triggers(notice('planned-downtime', 'in-progress', 'Upgrade.', { start: '2030-01-02T02:00:00Z', end: '2030-01-02T04:00:00Z' }), before)).toEqual(['changed']);
      expect(triggers(notice('unplanned-outage', 'in-progress'), before)).toEqual(['changed']);
      expect(triggers({ ...before, sent: '2029-12-01T00:00:00Z' }, before)).toEqual([]);
    });

    it('completed when a planned downtime is ended by hand; nothing when another kind ends or a notice is withdrawn', () => {
      expect(triggers(notice('planned-downtime', 'completed'), notice('planned-downtime', 'in-progress'))).toEqual(['completed']);
      expect(triggers(notice('unplanned-outage', 'completed'), notice('unplanned-outage', 'in-progress'))).toEqual([]);
      expect(triggers(notice('planned-downtime', 'entered-in-error'), notice('planned-downtime', 'in-progress'))).toEqual([]);
    });

    it('posted again when reopened; nothing for a notice created completed or for other Communications', () => {
      expect(triggers(notice('unplanned-outage', 'in-progress'), notice('unplanned-outage', 'completed'))).toEqual(['posted']);
      expect(triggers(notice('restored', 'completed'))).toEqual([]);
      const message: Communication = { resourceType: 'Communication', status: 'in-progress', payload: [{ contentString: 'hello' }] };
      expect(topicEventsOf(created(message), stored(message, 'm1'))).toEqual([]);
    });
  });
});
