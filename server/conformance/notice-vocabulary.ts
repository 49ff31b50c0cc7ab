import type { Communication, Resource } from 'fhir/r4';

/**
 * Service notices (issue 20, seed 002): a Communication of the CCP guide's profile `ccp-service-notice`
 * (profiles/input/fsh/notice.fsh), about no patient:
 *
 *   Communication.category           NOTICE_KIND_SYSTEM#planned-downtime | unplanned-outage | restored | …
 *   Communication.extension          NOTICE_SEVERITY_EXTENSION valueCode information | warning | critical
 *                                    NOTICE_WINDOW_EXTENSION valuePeriod {start, end} (planned downtime: both)
 *   Communication.status             in-progress while current, completed once over (entered-in-error)
 *   Communication.sent               when it was posted (the write rule stamps it when absent)
 *   Communication.payload[0].contentString   the text people read
 *
 * What makes a Communication a notice is its category's system: the access rule (server/access/notice-access.ts),
 * the write rule (server/notices/), the topic events, the message of the day and the rounds all go by it, so it
 * lives here, below all of them.
 */
export const NOTICE_KIND_SYSTEM = 'http://ccp-exchange.org/fhir/CodeSystem/notice-kind';
export const NOTICE_SEVERITY_EXTENSION = 'http://ccp-exchange.org/fhir/StructureDefinition/ccp-notice-severity';
export const NOTICE_WINDOW_EXTENSION = 'http://ccp-exchange.org/fhir/StructureDefinition/ccp-notice-window';
export const NOTICE_PROFILE = 'http://ccp-exchange.org/fhir/StructureDefinition/ccp-service-notice';

export const NOTICE_KINDS = ['planned-downtime', 'unplanned-outage', 'restored', 'new-functionality', 'new-organization'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

export const NOTICE_SEVERITIES = ['information', 'warning', 'critical'] as const;
export type NoticeSeverity = (typeof NOTICE_SEVERITIES)[number];

/** How each kind and severity reads to people (the message of the day, the emails). */
export const NOTICE_KIND_TITLES: Record<NoticeKind, string> = {
  'planned-downtime': 'Planned downtime',
  'unplanned-outage': 'Unplanned outage',
  restored: 'Service restored',
  'new-functionality': 'New functionality',
  'new-organization': 'New organization',
};

export const NOTICE_SEVERITY_TITLES: Record<NoticeSeverity, string> = {
  information: 'Information',
  warning: 'Warning',
  critical: 'Critical',
};

/** A notice as the server reads it: only what the profile gives meaning to. */
export interface ServiceNotice {
  id?: string;
  kind: NoticeKind;
  severity?: NoticeSeverity;
  /** ISO 8601, as written. */
  window?: { start?: string; end?: string };
  status: Communication['status'];
  sent?: string;
  text?: string;
}

/** Whether `resource` is a service notice: a Communication with a category of the notice-kind system. */
export function isServiceNotice(resource: Resource | undefined): resource is Communication {
  return resource?.resourceType === 'Communication' && noticeKindCodes(resource as Communication).length > 0;
}

function noticeKindCodes(communication: Communication): string[] {
  return (communication.category ?? []).flatMap((category) => category.coding ?? []).filter((coding) => coding.system === NOTICE_KIND_SYSTEM).map((coding) => coding.code ?? '');
}

/**
 * The notice a Communication is, or undefined when it is none or names no kind we know (the profile's required
 * binding refuses such a write; a stored one is shown nowhere rather than guessed at).
 */
export function readServiceNotice(resource: Resource | undefined): ServiceNotice | undefined {
  if (!isServiceNotice(resource)) return undefined;
  const kind = noticeKindCodes(resource).find((code): code is NoticeKind => (NOTICE_KINDS as readonly string[]).includes(code));
  if (!kind) return undefined;
  const extension = (url: string) => resource.extension?.find((candidate) => candidate.url === url);
  const severity = extension(NOTICE_SEVERITY_EXTENSION)?.valueCode;
  const period = extension(NOTICE_WINDOW_EXTENSION)?.valuePeriod;
  const text = resource.payload?.find((payload) => payload.contentString !== undefined)?.contentString;
  return {
    ...(resource.id !== undefined ? { id: resource.id } : {}),
    kind,
    ...(severity && (NOTICE_SEVERITIES as readonly string[]).includes(severity) ? { severity: severity as NoticeSeverity } : {}),
    ...(period ? { window: { ...(period.start ? { start: period.start } : {}), ...(period.end ? { end: period.end } : {}) } } : {}),
    status: resource.status,
    ...(resource.sent !== undefined ? { sent: resource.sent } : {}),
    ...(text !== undefined ? { text } : {}),
  };
}

/**
 * Whether a notice is current at `now`: in progress and, when its window has an end, not past it (a planned
 * downtime is current from its posting until its end, even before the round marks it completed).
 */
export function isCurrentNotice(notice: ServiceNotice, now: Date): boolean {
  if (notice.status !== 'in-progress') return false;
  const end = notice.window?.end;
  return end === undefined || !(Date.parse(end) <= now.getTime());
}

/** A FHIR dateTime as people read it, in UTC: `2026-12-12 02:00 UTC`; a date (or anything else) as written. */
export function noticeTime(value: string): string {
  if (!value.includes('T')) return value;
  const time = Date.parse(value);
  return Number.isNaN(time) ? value : `${new Date(time).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * A notice in one line of plain words, for an email: its kind, severity, window and whether it is over; never its
 * text, which is the administrator's free writing and is read in the app.
 */
export function describeNotice(notice: ServiceNotice): string {
  const { start, end } = notice.window ?? {};
  const window = start && end ? `, from ${noticeTime(start)} to ${noticeTime(end)}` : start ? `, since ${noticeTime(start)}` : end ? `, until ${noticeTime(end)}` : '';
  const severity = notice.severity ? ` (${NOTICE_SEVERITY_TITLES[notice.severity].toLowerCase()})` : '';
  const state = notice.status === 'completed' ? ': completed' : notice.status === 'entered-in-error' ? ': withdrawn' : '';
  return `${NOTICE_KIND_TITLES[notice.kind]}${severity}${window}${state}.`;
}
