import type { Bundle, CarePlan, CarePlanActivity, CareTeam, Condition, Goal, Period, Reference, Timing } from 'fhir/r4';
import { conceptCode, conceptText, contactLines, indexBundle, keyOf, referenceLabel, resolve, type ResourceIndex } from '../fhir/resources.js';
import { comparePlans, isCcp, statusLabel } from './ccp.js';
import { reviewState, type ReviewState } from './review.js';

export interface GoalView {
  key: string;
  description: string;
  priority?: string;
  lifecycleStatus: string;
  achievementStatus?: string;
  /** Target due dates (or durations), in the order the goal lists them. */
  targets: string[];
  startDate?: string;
  /** The concerns the goal addresses, in words. */
  addresses: string[];
  expressedBy?: string;
  /** The goal could not be read (not included, or not the plan's patient's): only the plan's own words are shown. */
  unresolved: boolean;
}

export interface ConcernView {
  key: string;
  name: string;
  /** Condition.clinicalStatus in words; undefined when unknown. */
  clinicalStatus?: string;
  /** Active, recurring or relapsed (or of unknown status): listed before the inactive ones. */
  active: boolean;
  onset?: string;
  recorded?: string;
  unresolved: boolean;
}

export interface ActivityView {
  key: string;
  what: string;
  status?: string;
  responsible: string[];
  when?: string;
  /** Said when the activity is not done as planned (`detail.doNotPerform`). */
  doNotPerform: boolean;
}

export interface MemberView {
  key: string;
  name: string;
  roles: string[];
  organization?: string;
  contact: string[];
}

export interface CareTeamView {
  key: string;
  name: string;
  status?: string;
  members: MemberView[];
  unresolved: boolean;
}

export interface PlanView {
  id: string;
  title: string;
  status: CarePlan['status'];
  statusLabel: string;
  patient?: string;
  period: { start?: string; end?: string };
  created?: string;
  author?: string;
  review: ReviewState;
  goals: GoalView[];
  concerns: ConcernView[];
  activities: ActivityView[];
  careTeams: CareTeamView[];
  notes: string[];
  versionId?: string;
  lastUpdated?: string;
}

export interface PlanSummary {
  id: string;
  title: string;
  status: CarePlan['status'];
  statusLabel: string;
  period: { start?: string; end?: string };
}

export interface PlansView {
  /** The plan to show: the one asked for, else the patient's current one. */
  plan?: PlanView;
  /** Every CCP the search found, the shown one included, current first. */
  plans: PlanSummary[];
}

/**
 * What the plan screen shows, from the searchset(s) of a CCP search with its includes (goals, conditions, care
 * teams and the people around them). Only CCPs count: another CarePlan the search found is not shown as one.
 * `wanted` picks a plan by id (a plan named by the launch's fhirContext); `today` is the viewer's date for the
 * review's overdue flag.
 */
export function plansView(bundles: Array<Bundle | undefined>, options: { wanted?: string; today: string }): PlansView {
  const index = indexBundle(bundles);
  const plans = bundles
    .flatMap((bundle) => bundle?.entry ?? [])
    .filter((entry) => entry.search?.mode !== 'include' && entry.search?.mode !== 'outcome')
    .map((entry) => entry.resource)
    .filter(isCcp)
    .filter((plan, n, all) => all.findIndex((other) => other.id === plan.id) === n)
    .sort(comparePlans);
  const chosen = options.wanted ? plans.find((plan) => plan.id === options.wanted) : plans[0];
  return {
    plan: chosen ? planView(chosen, index, options.today) : undefined,
    plans: plans.map((plan) => ({ id: plan.id ?? '', title: plan.title ?? 'Coordinated care plan', status: plan.status, statusLabel: statusLabel(plan.status)!, period: periodOf(plan.period) })),
  };
}

export function planView(plan: CarePlan, index: ResourceIndex, today: string): PlanView {
  const subject = keyOf(plan.subject);
  const mine = <T extends Goal | Condition | CareTeam>(resource: T | undefined): T | undefined =>
    // A resource about another patient is not quoted (as the server's narrative does: docs/CCP.md).
    resource && (!subject || !resource.subject || keyOf(resource.subject) === subject) ? resource : undefined;
  const concernOf = (reference: Reference) => mine(resolve(reference, index, plan) as Condition | undefined);

  const concernRefs = [...(plan.addresses ?? [])];
  const goals = (plan.goal ?? []).map((reference, n): GoalView => {
    const goal = mine(resolve(reference, index, plan) as Goal | undefined);
    if (goal?.resourceType !== 'Goal') return { key: reference.reference ?? `goal-${n}`, description: reference.display ?? reference.reference ?? 'A goal', lifecycleStatus: 'Unknown', targets: [], addresses: [], unresolved: true };
    for (const address of goal.addresses ?? []) if (!concernRefs.some((known) => sameReference(known, address))) concernRefs.push(address);
    return {
      key: reference.reference ?? `goal-${n}`,
      description: conceptText(goal.description) ?? 'A goal',
      priority: conceptText(goal.priority),
      lifecycleStatus: statusLabel(goal.lifecycleStatus)!,
      achievementStatus: statusLabel(conceptCode(goal.achievementStatus)) ?? conceptText(goal.achievementStatus),
      targets: (goal.target ?? []).map(targetText).filter((text): text is string => Boolean(text)),
      startDate: goal.startDate,
      addresses: (goal.addresses ?? []).map((address) => conceptText((concernOf(address) as Condition | undefined)?.code) ?? referenceLabel(address, index, plan) ?? 'A concern'),
      expressedBy: goal.expressedBy ? (keyOf(goal.expressedBy) === subject && subject ? 'The patient' : referenceLabel(goal.expressedBy, index, plan)) : undefined,
      unresolved: false,
    };
  });

  const concerns = concernRefs
    .map((reference, n): ConcernView => {
      const condition = concernOf(reference);
      if (condition?.resourceType !== 'Condition') return { key: reference.reference ?? `concern-${n}`, name: reference.display ?? reference.reference ?? 'A concern', active: true, unresolved: true };
      const clinical = conceptCode(condition.clinicalStatus);
      return {
        key: reference.reference ?? `concern-${n}`,
        name: conceptText(condition.code) ?? reference.display ?? 'A concern',
        clinicalStatus: statusLabel(clinical),
        active: !clinical || ['active', 'recurrence', 'relapse'].includes(clinical),
        onset: condition.onsetDateTime ?? condition.onsetString ?? condition.onsetPeriod?.start,
        recorded: condition.recordedDate,
        unresolved: false,
      };
    })
    // Active first, each group in the plan's order (a stable sort).
    .sort((a, b) => Number(b.active) - Number(a.active));

  const careTeams = (plan.careTeam ?? []).map((reference, n): CareTeamView => {
    const team = mine(resolve(reference, index, plan) as CareTeam | undefined);
    if (team?.resourceType !== 'CareTeam') return { key: reference.reference ?? `team-${n}`, name: reference.display ?? reference.reference ?? 'Care team', members: [], unresolved: true };
    return {
      key: reference.reference ?? `team-${n}`,
      name: team.name ?? reference.display ?? 'Care team',
      status: statusLabel(team.status),
      members: (team.participant ?? [])
        .filter((participant) => !participant.period?.end || participant.period.end >= today)
        .map((participant, m): MemberView => {
          const member = resolve(participant.member, index, team);
          const role = member?.resourceType === 'PractitionerRole' ? member : undefined;
          const organization = participant.onBehalfOf ?? role?.organization;
          const telecom = member && 'telecom' in member ? member.telecom : undefined;
          const practitioner = role ? resolve(role.practitioner, index) : undefined;
          return {
            key: `${participant.member?.reference ?? 'member'}-${m}`,
            name: referenceLabel(participant.member, index, team) ?? 'A member',
            // The team's words for the member's role; the PractitionerRole's codes only when the team gives none.
            roles: (participant.role?.length ? participant.role : (role?.code ?? [])).map(conceptText).filter((text): text is string => Boolean(text)).filter(unique),
            organization: member?.resourceType === 'Organization' ? undefined : organization ? referenceLabel(organization, index, team) : undefined,
            contact: contactLines([...(telecom ?? []), ...(practitioner && 'telecom' in practitioner ? (practitioner.telecom ?? []) : [])]).filter(unique),
          };
        }),
      unresolved: false,
    };
  });

  return {
    id: plan.id ?? '',
    title: plan.title ?? 'Coordinated care plan',
    status: plan.status,
    statusLabel: statusLabel(plan.status)!,
    patient: subject,
    period: periodOf(plan.period),
    created: plan.created,
    author: referenceLabel(plan.author, index, plan),
    review: reviewState(plan, today),
    goals,
    concerns,
    activities: (plan.activity ?? []).map((activity, n) => activityView(activity, n, plan, index)),
    careTeams,
    notes: (plan.note ?? []).map((note) => note.text).filter(Boolean),
    versionId: plan.meta?.versionId,
    lastUpdated: plan.meta?.lastUpdated,
  };
}

function activityView(activity: CarePlanActivity, n: number, plan: CarePlan, index: ResourceIndex): ActivityView {
  const detail = activity.detail;
  return {
    key: `activity-${n}`,
    what: detail?.description ?? conceptText(detail?.code) ?? activity.reference?.display ?? referenceLabel(activity.reference, index, plan) ?? 'An activity',
    status: statusLabel(detail?.status),
    responsible: (detail?.performer ?? []).map((performer) => referenceLabel(performer, index, plan)).filter((text): text is string => Boolean(text)),
    when: detail?.scheduledString ?? timingText(detail?.scheduledTiming) ?? periodText(detail?.scheduledPeriod),
    doNotPerform: detail?.doNotPerform === true,
  };
}

function targetText(target: NonNullable<Goal['target']>[number]): string | undefined {
  const measure = conceptText(target.measure);
  const detail =
    target.detailString ??
    (target.detailQuantity ? `${target.detailQuantity.value ?? ''} ${target.detailQuantity.unit ?? target.detailQuantity.code ?? ''}`.trim() : undefined) ??
    (target.detailRange ? `${target.detailRange.low?.value ?? ''}–${target.detailRange.high?.value ?? ''} ${target.detailRange.high?.unit ?? target.detailRange.low?.unit ?? ''}`.trim() : undefined) ??
    conceptText(target.detailCodeableConcept);
  const due = target.dueDate ? `by ${target.dueDate}` : target.dueDuration ? `within ${target.dueDuration.value} ${target.dueDuration.unit ?? target.dueDuration.code ?? ''}`.trim() : undefined;
  const text = [measure && detail ? `${measure}: ${detail}` : (measure ?? detail), due].filter(Boolean).join(', ');
  return text || undefined;
}

const UNITS: Record<string, [string, string]> = { s: ['second', 'seconds'], min: ['minute', 'minutes'], h: ['hour', 'hours'], d: ['day', 'days'], wk: ['week', 'weeks'], mo: ['month', 'months'], a: ['year', 'years'] };

/** A repeating schedule in words: "2 times every 1 week" reads "2 times a week". */
export function timingText(timing: Timing | undefined): string | undefined {
  if (!timing) return undefined;
  if (timing.code) return conceptText(timing.code);
  const repeat = timing.repeat;
  if (repeat?.frequency && repeat.period && repeat.periodUnit) {
    const [one, many] = UNITS[repeat.periodUnit] ?? [repeat.periodUnit, repeat.periodUnit];
    const times = repeat.frequency === 1 ? 'Once' : repeat.frequency === 2 ? 'Twice' : `${repeat.frequency} times`;
    const every = repeat.period === 1 ? `a ${one}` : `every ${repeat.period} ${many}`;
    return `${times} ${every}`;
  }
  if (timing.event?.length) return timing.event.join(', ');
  return periodText(repeat?.boundsPeriod);
}

function periodText(period: Period | undefined): string | undefined {
  if (!period?.start && !period?.end) return undefined;
  if (period.start && period.end) return `${period.start} to ${period.end}`;
  return period.start ? `from ${period.start}` : `until ${period.end}`;
}

function periodOf(period: Period | undefined): { start?: string; end?: string } {
  return { start: period?.start, end: period?.end };
}

function sameReference(a: Reference, b: Reference): boolean {
  return (keyOf(a) ?? a.reference) === (keyOf(b) ?? b.reference);
}

function unique<T>(value: T, n: number, all: T[]): boolean {
  return all.indexOf(value) === n;
}
