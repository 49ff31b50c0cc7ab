import type { CarePlan, Consent, Organization, Resource, Task } from 'fhir/r4';
import { readServiceNotice, type ServiceNotice } from '../conformance/notice-vocabulary.js';
import { consentKind } from '../conformance/consent-kind.js';
import { CAREPLAN_CATEGORY, CCP_CODE, REGISTRATION_TASK, TASK_CODE_SYSTEM } from '../conformance/consent-vocabulary.js';
import { idOfReference } from '../fhir/reference.js';
import type { WriteChange } from '../rest/write-rules.js';
import type { TopicEvent, TopicName } from '../subscriptions/model.js';
import { TOPIC_BASE } from '../subscriptions/model.js';

/**
 * The topic events a write causes (server/subscriptions/topics.ts), worked out from the change and the version
 * written: nothing is read, so the rule that records them (./topic-event-rule.ts) adds one INSERT per event and
 * nothing else. Events carry ids only (DESIGN rule 9): what changed is for the subscriber to read with its own token.
 *
 * A delete causes none: no topic of ours is about a resource going away (a CCP cannot be deleted, and registrations
 * and directives end by status).
 */
export function topicEventsOf(change: WriteChange, written: Resource | undefined): TopicEvent[] {
  if (!written?.id || change.interaction === 'delete') return [];
  const occurredAt = written.meta?.lastUpdated;
  // The store stamps every version it writes; a version without its time is not one it wrote.
  if (!occurredAt) return [];
  const created = change.current === undefined;
  const event = (topic: TopicName, trigger: string, about: { patient?: string; organization?: string }): TopicEvent => ({
    topic: `${TOPIC_BASE}/${topic}`,
    focus: { type: written.resourceType, id: written.id! },
    ...(about.patient !== undefined ? { patient: about.patient } : {}),
    ...(about.organization !== undefined ? { organization: about.organization } : {}),
    trigger,
    occurredAt,
  });
  switch (written.resourceType) {
    case 'CarePlan':
      return ccpChanged(written as CarePlan, created, event);
    case 'Task':
      return registrationStatus(written as Task, change.current as Task | undefined, event);
    case 'Consent':
      return consentEvents(written as Consent, change.current as Consent | undefined, event);
    case 'Organization':
      return organizationJoined(written as Organization, change.current as Organization | undefined, event);
    case 'Communication':
      return serviceNotice(written, change.current, event);
    default:
      return [];
  }
}

type EventOf = (topic: TopicName, trigger: string, about: { patient?: string; organization?: string }) => TopicEvent;

/** ccp-changed: every version of a CCP is a change of the plan (its status included). */
function ccpChanged(plan: CarePlan, created: boolean, event: EventOf): TopicEvent[] {
  const isCcp = (plan.category ?? []).some((category) => category.coding?.some((coding) => coding.system === CAREPLAN_CATEGORY && coding.code === CCP_CODE));
  if (!isCcp) return [];
  return [event('ccp-changed', created ? 'create' : 'update', { patient: idOfReference(plan.subject?.reference, 'Patient') })];
}

/** registration-status: a request made, or its status changed (approved, rejected, cancelled); other edits are not news. */
function registrationStatus(task: Task, current: Task | undefined, event: EventOf): TopicEvent[] {
  const isRegistration = task.code?.coding?.some((coding) => coding.system === TASK_CODE_SYSTEM && coding.code === REGISTRATION_TASK);
  if (!isRegistration) return [];
  if (current !== undefined && current.status === task.status) return [];
  return [
    event('registration-status', current === undefined ? 'create' : 'update', {
      patient: idOfReference(task.for?.reference, 'Patient'),
      organization: idOfReference(task.requester?.reference, 'Organization'),
    }),
  ];
}

/**
 * directive-changed: a directive recorded (created, or made active by a later version) or ended (a version no
 * longer active: inactive). override-used: an override created; its organization is the overriding user's,
 * which the $override operation writes as `Consent.organization`.
 */
function consentEvents(consent: Consent, current: Consent | undefined, event: EventOf): TopicEvent[] {
  const patient = idOfReference(consent.patient?.reference, 'Patient');
  switch (consentKind(consent)) {
    case 'directive': {
      if (current === undefined) return [event('directive-changed', 'create', { patient })];
      const becameActive = consent.status === 'active' && current.status !== 'active';
      const ended = consent.status === 'inactive' && current.status !== 'inactive';
      return becameActive || ended ? [event('directive-changed', 'update', { patient })] : [];
    }
    case 'override':
      if (current !== undefined) return [];
      return [event('override-used', 'create', { patient, organization: idOfReference(consent.organization?.[0]?.reference, 'Organization') })];
    default:
      return [];
  }
}

/** organization-joined: an Organization that is active (R4: absent means active) and was not before. */
function organizationJoined(organization: Organization, current: Organization | undefined, event: EventOf): TopicEvent[] {
  if (organization.active === false) return [];
  if (current !== undefined && current.active !== false) return [];
  return [event('organization-joined', 'joined', { organization: organization.id })];
}

/**
 * service-notice, for what an administrator writes (the rounds of server/notices/rounds.ts add `reminder` before a
 * planned downtime and `completed` after its end):
 * - `posted`: a notice written in progress that was not before (created, made a notice, or reopened);
 * - `changed`: a notice in progress whose kind, severity, window or text changed: partners planned around what it
 *   said (a downtime moved is news; a typo fixed is too, and rare enough to cost nothing);
 * - `completed`: a planned downtime ended by hand (in progress → completed) before its round did it.
 * Nothing for other status changes: a notice completed or entered in error is no longer shown, and that is all.
 */
function serviceNotice(written: Resource, current: Resource | undefined, event: EventOf): TopicEvent[] {
  const notice = readServiceNotice(written);
  if (!notice) return [];
  const before = readServiceNotice(current);
  const live = before?.status === 'in-progress';
  if (notice.status === 'in-progress') {
    if (!live) return [event('service-notice', 'posted', {})];
    return saysOtherwise(notice, before) ? [event('service-notice', 'changed', {})] : [];
  }
  if (notice.status === 'completed' && live && notice.kind === 'planned-downtime') return [event('service-notice', 'completed', {})];
  return [];
}

/** Whether the two versions tell people something different (not `sent`, not the status). */
function saysOtherwise(notice: ServiceNotice, before: ServiceNotice): boolean {
  const words = (n: ServiceNotice) => JSON.stringify([n.kind, n.severity, n.window?.start, n.window?.end, n.text]);
  return words(notice) !== words(before);
}
