import type { Extension } from 'fhir/r4';
import {
  ACT_CODE,
  CAREPLAN_CATEGORY,
  CCP_CODE,
  CONSENT_CATEGORY,
  OVERRIDE_CODE,
  REGISTRATION_TASK,
  TASK_CODE_SYSTEM,
} from '../conformance/consent-vocabulary.js';
import { isValidId } from '../fhir/resource-types.js';
import { TOPIC_CANONICAL_EXTENSION } from './backport.js';
import { TOPIC_BASE, type TopicEvent, type TopicFilter, type TopicName } from './model.js';

/**
 * CCP Exchange's subscription topics. R4 has no SubscriptionTopic resource, so a topic is its canonical URL
 * (`Subscription.criteria`), listed in the CapabilityStatement with the Backport IG's extension, and described here
 * in the terms of R5's SubscriptionTopic: what triggers an event, what its focus is, and which filters
 * (`canFilterBy`) a Subscription may set. Which events a subscriber is actually told of is decided after the filters,
 * by access (model.ts `AccessCheck`).
 */

/** The event fields a filter can be compared with, and the resource type a filter's value may name. */
const FILTER_TARGETS = {
  patient: { type: 'Patient', of: (event: TopicEvent) => event.patient },
  organization: { type: 'Organization', of: (event: TopicEvent) => event.organization },
} as const;

export type FilterName = keyof typeof FILTER_TARGETS;

/** One filter a topic accepts (R5 `SubscriptionTopic.canFilterBy`). */
export interface TopicFilterDefinition {
  /** The name in a `filter-criteria` of `name=value` form. */
  filterParameter: FilterName;
  /** The focus types a filter may be prefixed with, as the IG's examples write them (`CarePlan?patient=…`). */
  resource: readonly string[];
  description: string;
}

/** What makes an event of a topic: the value of `TopicEvent.trigger`. */
export interface TopicTrigger {
  /** `create`, `update` or `delete` for a change of the focus; the topic's own word otherwise. */
  trigger: string;
  description: string;
}

export interface SubscriptionTopicDefinition {
  name: TopicName;
  /** The canonical URL: `${TOPIC_BASE}/<name>`. */
  url: string;
  title: string;
  description: string;
  /** The resource types an event's focus is of. */
  focus: readonly string[];
  triggers: readonly TopicTrigger[];
  canFilterBy: readonly TopicFilterDefinition[];
}

const url = (name: TopicName): string => `${TOPIC_BASE}/${name}`;

const patientOf = (resource: string, element: string): TopicFilterDefinition => ({
  filterParameter: 'patient',
  resource: [resource],
  description: `The patient (${element}): Patient/[id] or [id].`,
});

const organizationOf = (resource: string, element: string, who: string): TopicFilterDefinition => ({
  filterParameter: 'organization',
  resource: [resource],
  description: `${who} (${element}): Organization/[id] or [id].`,
});

export const TOPICS: readonly SubscriptionTopicDefinition[] = [
  {
    name: 'ccp-changed',
    url: url('ccp-changed'),
    title: 'Coordinated Care Plan created or updated',
    description:
      `A Coordinated Care Plan, a CarePlan with the category ${CAREPLAN_CATEGORY}#${CCP_CODE}, was created or updated. ` +
      'The focus is the plan: read it with your own token to see what changed.',
    focus: ['CarePlan'],
    triggers: [
      { trigger: 'create', description: 'A plan was created.' },
      { trigger: 'update', description: 'A new version of a plan was written (its status included).' },
    ],
    canFilterBy: [patientOf('CarePlan', 'CarePlan.subject')],
  },
  {
    name: 'registration-status',
    url: url('registration-status'),
    title: 'Registration status changed',
    description:
      `A registration request, a Task with the code ${TASK_CODE_SYSTEM}#${REGISTRATION_TASK} (docs/CONSENT.md), was made ` +
      'or changed status: requested, then completed (approved), rejected or cancelled. The requesting organization ' +
      'follows its own requests with the organization filter.',
    focus: ['Task'],
    triggers: [
      { trigger: 'create', description: 'A request was made (status requested).' },
      { trigger: 'update', description: 'A request changed status: approved, rejected or cancelled.' },
    ],
    canFilterBy: [patientOf('Task', 'Task.for'), organizationOf('Task', 'Task.requester', 'The requesting organization')],
  },
  {
    name: 'directive-changed',
    url: url('directive-changed'),
    title: 'Consent directive recorded or ended',
    description:
      'A consent directive, a patient-privacy Consent that is neither a registration ' +
      `(${CONSENT_CATEGORY}#ccp-registration) nor an override, was recorded, or ended (a new version no longer ` +
      'active); a change of its wording alone is no event.',
    focus: ['Consent'],
    triggers: [
      { trigger: 'create', description: 'A directive was recorded.' },
      { trigger: 'update', description: 'A directive ended (a version no longer active), or was made active again.' },
    ],
    canFilterBy: [patientOf('Consent', 'Consent.patient')],
  },
  {
    name: 'override-used',
    url: url('override-used'),
    title: 'Consent override used',
    description:
      `A user overrode a consent directive (break-the-glass): an override Consent, category ${ACT_CODE}#${OVERRIDE_CODE}, ` +
      "was recorded. The organization is the overriding user's; its privacy contacts follow it with the organization filter.",
    focus: ['Consent'],
    triggers: [{ trigger: 'create', description: 'An override was recorded.' }],
    canFilterBy: [
      patientOf('Consent', 'Consent.patient'),
      organizationOf('Consent', 'Consent.organization', "The overriding user's organization"),
    ],
  },
  {
    name: 'service-notice',
    url: url('service-notice'),
    title: 'Service notice',
    description:
      "An administrator posted or changed a service notice (planned downtime, an outage, service restored, new " +
      'functionality, a new organization), a planned downtime is about to start, or it is over. The focus is the ' +
      'notice, a Communication of the profile ccp-service-notice, which names no patient.',
    focus: ['Communication'],
    triggers: [
      { trigger: 'posted', description: 'A notice was posted (or reopened): it is current from now on.' },
      { trigger: 'changed', description: "A current notice's kind, severity, window or text changed." },
      { trigger: 'reminder', description: 'A planned downtime starts soon (NOTICE_REMINDER_HOURS before its start).' },
      { trigger: 'completed', description: 'A planned downtime is over: its end passed, or an administrator ended it.' },
    ],
    canFilterBy: [],
  },
  {
    name: 'organization-joined',
    url: url('organization-joined'),
    title: 'Organization joined',
    description: 'An organization was newly granted access to CCP Exchange. The focus is the Organization.',
    focus: ['Organization'],
    triggers: [{ trigger: 'joined', description: 'The organization was granted access.' }],
    canFilterBy: [],
  },
];

const byUrl = new Map(TOPICS.map((topic) => [topic.url, topic]));

/** The topic whose canonical URL this is (exactly: our topics have no versions), or undefined. */
export function topicByUrl(canonical: string): SubscriptionTopicDefinition | undefined {
  return byUrl.get(canonical);
}

export function isFilterName(name: string): name is FilterName {
  return Object.hasOwn(FILTER_TARGETS, name);
}

/** The resource type a filter's value names (`patient` → `Patient`). */
export function filterTargetType(name: FilterName): string {
  return FILTER_TARGETS[name].type;
}

/** The id a filter value names: `Patient/123` or `123` for `patient` → `123`; undefined for anything else. */
export function filterValueId(name: FilterName, value: string): string | undefined {
  const prefix = `${FILTER_TARGETS[name].type}/`;
  const id = value.startsWith(prefix) ? value.slice(prefix.length) : value;
  return isValidId(id) ? id : undefined;
}

/**
 * Whether an event passes every filter (the IG: several filters combine with AND). A filter the event cannot be
 * compared with (an unknown name, an event without a patient or organization) does not match: deny by default.
 */
export function matchesFilters(filters: readonly TopicFilter[], event: TopicEvent): boolean {
  return filters.every((filter) => {
    if (!isFilterName(filter.name)) return false;
    const wanted = filterValueId(filter.name, filter.value);
    const actual = FILTER_TARGETS[filter.name].of(event);
    return wanted !== undefined && actual !== undefined && wanted === actual;
  });
}

/** The canonical URLs of our topics, for `Subscription.criteria` and the CapabilityStatement. */
export const TOPIC_CANONICALS: readonly string[] = TOPICS.map((topic) => topic.url);

/**
 * The extensions that list our topics on the CapabilityStatement's Subscription entry
 * (`rest.resource.where(type = 'Subscription').extension`), one per topic, as the IG's R4 topic discovery has them.
 */
export function topicCanonicalExtensions(): Extension[] {
  return TOPICS.map((topic) => ({ url: TOPIC_CANONICAL_EXTENSION, valueCanonical: topic.url }));
}
