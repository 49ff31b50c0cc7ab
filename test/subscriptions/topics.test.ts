import type { TopicEvent, TopicFilter } from '../../server/subscriptions/model.js';
import {
  filterValueId,
  matchesFilters,
  TOPIC_CANONICALS,
  topicByUrl,
  topicCanonicalExtensions,
  TOPICS,
} from '../../server/subscriptions/topics.js';

/** Our topics' canonical base (docs: the CCP guide's), and the Backport IG's topic-listing extension, written out. */
const BASE = 'http://ccp-exchange.org/fhir/SubscriptionTopic';
const TOPIC_EXTENSION = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical';

const event = (fields: Partial<TopicEvent>): TopicEvent => ({
  topic: `${BASE}/registration-status`,
  focus: { type: 'Task', id: 't1' },
  trigger: 'update',
  occurredAt: '2026-12-07T14:00:00Z',
  ...fields,
});

describe('the topic catalogue', () => {
  it('has the six topics of issue 20, each at <base>/<name>', () => {
    expect(TOPICS.map((topic) => topic.url)).toEqual([
      `${BASE}/ccp-changed`,
      `${BASE}/registration-status`,
      `${BASE}/directive-changed`,
      `${BASE}/override-used`,
      `${BASE}/service-notice`,
      `${BASE}/organization-joined`,
    ]);
    for (const topic of TOPICS) {
      expect(topic.url).toBe(`${BASE}/${topic.name}`);
      expect(topic.title.length).toBeGreaterThan(0);
      expect(topic.description.length).toBeGreaterThan(20);
      expect(topic.triggers.length).toBeGreaterThan(0);
    }
  });

  it('names the focus types and the filters each topic takes', () => {
    const shape = Object.fromEntries(
      TOPICS.map((topic) => [topic.name, { focus: topic.focus, filters: topic.canFilterBy.map((filter) => filter.filterParameter) }]),
    );
    expect(shape).toEqual({
      'ccp-changed': { focus: ['CarePlan'], filters: ['patient'] },
      'registration-status': { focus: ['Task'], filters: ['patient', 'organization'] },
      'directive-changed': { focus: ['Consent'], filters: ['patient'] },
      'override-used': { focus: ['Consent'], filters: ['patient', 'organization'] },
      'service-notice': { focus: ['Communication'], filters: [] },
      'organization-joined': { focus: ['Organization'], filters: [] },
    });
  });

  it('says what triggers each topic', () => {
    const triggers = Object.fromEntries(TOPICS.map((topic) => [topic.name, topic.triggers.map((t) => t.trigger)]));
    expect(triggers).toEqual({
      'ccp-changed': ['create', 'update'],
      'registration-status': ['create', 'update'],
      'directive-changed': ['create', 'update'],
      'override-used': ['create'],
      'service-notice': ['posted', 'changed', 'reminder', 'completed'],
      'organization-joined': ['joined'],
    });
  });

  it('describes a CCP, a registration and an override by the codes that make them so (docs/CONSENT.md, docs/CCP.md)', () => {
    expect(topicByUrl(`${BASE}/ccp-changed`)?.description).toContain('http://ccp-exchange.org/fhir/CodeSystem/careplan-category#ccp');
    expect(topicByUrl(`${BASE}/registration-status`)?.description).toContain('http://ccp-exchange.org/fhir/CodeSystem/task-code#ccp-registration');
    expect(topicByUrl(`${BASE}/override-used`)?.description).toContain('http://terminology.hl7.org/CodeSystem/v3-ActCode#INFA');
  });

  it('finds a topic by its exact canonical URL only', () => {
    expect(topicByUrl(`${BASE}/override-used`)?.name).toBe('override-used');
    for (const other of [`${BASE}/unknown`, `${BASE}/ccp-changed|1.0`, `${BASE}/ccp-changed/`, `https://ccp-exchange.org/fhir/SubscriptionTopic/ccp-changed`, 'ccp-changed']) {
      expect(topicByUrl(other)).toBeUndefined();
    }
  });
});

describe('filters', () => {
  it('read Patient/[id] or [id] (and Organization/[id] or [id]) as the id', () => {
    expect(filterValueId('patient', 'Patient/123')).toBe('123');
    expect(filterValueId('patient', '123')).toBe('123');
    expect(filterValueId('organization', 'Organization/home-care')).toBe('home-care');
    expect(filterValueId('organization', 'home-care')).toBe('home-care');
    for (const bad of ['Organization/123', 'Patient/', '', 'Patient/a b', 'http://x.org/fhir/Patient/1', `${'x'.repeat(65)}`]) {
      expect(filterValueId('patient', bad)).toBeUndefined();
    }
  });

  it('with none, every event of the topic matches', () => {
    expect(matchesFilters([], event({}))).toBe(true);
  });

  it('patient matches the event of that patient, in either form, and no other', () => {
    const byId: TopicFilter[] = [{ name: 'patient', value: '123' }];
    const byReference: TopicFilter[] = [{ name: 'patient', value: 'Patient/123' }];
    expect(matchesFilters(byId, event({ patient: '123' }))).toBe(true);
    expect(matchesFilters(byReference, event({ patient: '123' }))).toBe(true);
    expect(matchesFilters(byId, event({ patient: '1234' }))).toBe(false);
    expect(matchesFilters(byId, event({ patient: '12' }))).toBe(false);
    expect(matchesFilters(byId, event({}))).toBe(false);
    expect(matchesFilters(byId, event({ organization: '123' }))).toBe(false);
  });

  it('organization matches the organization an event concerns', () => {
    const filters: TopicFilter[] = [{ name: 'organization', value: 'Organization/home-care' }];
    expect(matchesFilters(filters, event({ organization: 'home-care' }))).toBe(true);
    expect(matchesFilters(filters, event({ organization: 'primary-care' }))).toBe(false);
    expect(matchesFilters(filters, event({ patient: 'home-care' }))).toBe(false);
  });

  it('combine with AND', () => {
    const filters: TopicFilter[] = [
      { name: 'patient', value: 'p1' },
      { name: 'organization', value: 'home-care' },
    ];
    expect(matchesFilters(filters, event({ patient: 'p1', organization: 'home-care' }))).toBe(true);
    expect(matchesFilters(filters, event({ patient: 'p1', organization: 'primary-care' }))).toBe(false);
    expect(matchesFilters(filters, event({ patient: 'p2', organization: 'home-care' }))).toBe(false);
    expect(matchesFilters(filters, event({ patient: 'p1' }))).toBe(false);
  });

  it('an unknown filter, or a value naming the wrong type, matches nothing (deny by default)', () => {
    expect(matchesFilters([{ name: 'subject', value: 'p1' }], event({ patient: 'p1' }))).toBe(false);
    expect(matchesFilters([{ name: 'patient', value: 'Organization/p1' }], event({ patient: 'p1' }))).toBe(false);
    expect(matchesFilters([{ name: 'constructor', value: 'p1' }], event({ patient: 'p1' }))).toBe(false);
  });
});

describe('what the CapabilityStatement lists', () => {
  it('every topic canonical', () => {
    expect(TOPIC_CANONICALS).toEqual(TOPICS.map((topic) => topic.url));
    expect(new Set(TOPIC_CANONICALS).size).toBe(6);
  });

  it("one capabilitystatement-subscriptiontopic-canonical extension (valueCanonical) per topic, as the IG's R4 example", () => {
    expect(topicCanonicalExtensions()).toEqual([
      { url: TOPIC_EXTENSION, valueCanonical: `${BASE}/ccp-changed` },
      { url: TOPIC_EXTENSION, valueCanonical: `${BASE}/registration-status` },
      { url: TOPIC_EXTENSION, valueCanonical: `${BASE}/directive-changed` },
      { url: TOPIC_EXTENSION, valueCanonical: `${BASE}/override-used` },
      { url: TOPIC_EXTENSION, valueCanonical: `${BASE}/service-notice` },
      { url: TOPIC_EXTENSION, valueCanonical: `${BASE}/organization-joined` },
    ]);
  });
});
