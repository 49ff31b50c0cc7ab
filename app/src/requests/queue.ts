import type { Bundle, Consent, Extension, Parameters, Task } from 'fhir/r4';
import { indexBundle, keyOf, referenceLabel, resolve, type ResourceIndex } from '../fhir/resources.js';

/** The server's names for a registration request and its express consent (docs/CONSENT.md). */
export const TASK_CODE_SYSTEM = 'http://ccp-exchange.org/fhir/CodeSystem/task-code';
export const EXPRESS_CONSENT_EXTENSION = 'http://ccp-exchange.org/fhir/StructureDefinition/express-consent';

/**
 * The registration requests in one state, with their Consent, patient and requesting organization: waiting for
 * review (`requested`), or approved (`completed`, listed for disengagement). Newest first is done by the app.
 */
export function requestsSearch(status: 'requested' | 'completed'): string {
  return `Task?code=${encodeURIComponent(`${TASK_CODE_SYSTEM}|ccp-registration`)}&status=${status}&_include=Task:focus&_include=Task:patient&_include=Task:requester&_count=100`;
}

/** One registration request as the queue shows it. */
export interface RequestRow {
  taskId: string;
  /** `Patient/<id>`. */
  patient: string;
  patientName: string;
  /** `Organization/<id>`. */
  organization: string;
  organizationName: string;
  level: 'view' | 'modify' | undefined;
  levelText: string;
  obtainedBy: string;
  obtainedAt?: string;
  method: string;
  requestedAt?: string;
  /** The registration's Consent status (proposed while waiting; active once approved). */
  consentStatus?: Consent['status'];
}

const LEVELS: Record<string, string> = { view: 'View', modify: 'View and modify' };
const METHODS: Record<string, string> = { verbal: 'Verbally' };

function part(extension: Extension | undefined, url: string): Extension | undefined {
  return extension?.extension?.find((e) => e.url === url);
}

/** The rows of the requests `bundles` hold (the search above, and a search for the people named), newest first. */
export function requestRows(bundles: Array<Bundle | undefined>): RequestRow[] {
  const index = indexBundle(bundles);
  const rows: RequestRow[] = [];
  for (const entry of bundles[0]?.entry ?? []) {
    const task = entry.resource;
    if (task?.resourceType !== 'Task' || !task.id || entry.search?.mode === 'include') continue;
    rows.push(rowOf(task as Task, index));
  }
  return rows.sort((a, b) => (b.requestedAt ?? '').localeCompare(a.requestedAt ?? ''));
}

function rowOf(task: Task, index: ResourceIndex): RequestRow {
  const consent = resolve(task.focus, index);
  const express = consent?.resourceType === 'Consent' ? consent.extension?.find((e) => e.url === EXPRESS_CONSENT_EXTENSION) : undefined;
  const levelCode = task.input?.find((input) => input.valueCode !== undefined && input.type.text === 'access level')?.valueCode;
  const level = levelCode === 'view' || levelCode === 'modify' ? levelCode : undefined;
  const obtainedBy = part(express, 'obtainedBy')?.valueReference;
  const method = part(express, 'method')?.valueCode;
  return {
    taskId: task.id!,
    patient: keyOf(task.for) ?? task.for?.reference ?? '',
    patientName: referenceLabel(task.for, index) ?? 'not stated',
    organization: keyOf(task.requester) ?? task.requester?.reference ?? '',
    organizationName: referenceLabel(task.requester, index) ?? 'not stated',
    level,
    levelText: levelCode ? (LEVELS[levelCode] ?? levelCode) : 'not stated',
    obtainedBy: referenceLabel(obtainedBy, index) ?? 'not stated',
    obtainedAt: part(express, 'obtainedAt')?.valueDateTime,
    method: method ? (METHODS[method] ?? method) : 'not stated',
    requestedAt: task.authoredOn,
    consentStatus: consent?.resourceType === 'Consent' ? consent.status : undefined,
  };
}

/** The people who obtained consent, whom no include reaches (they are in the Consent's extension): `Practitioner?_id=…`. */
export function obtainedBySearch(search: Bundle): string | undefined {
  const index = indexBundle([search]);
  const ids = new Set<string>();
  for (const resource of index.values()) {
    if (resource.resourceType !== 'Consent') continue;
    const reference = part(resource.extension?.find((e) => e.url === EXPRESS_CONSENT_EXTENSION), 'obtainedBy')?.valueReference;
    const key = keyOf(reference);
    if (key?.startsWith('Practitioner/') && !index.has(key)) ids.add(key.slice('Practitioner/'.length));
  }
  return ids.size ? `Practitioner?_id=${[...ids].slice(0, 50).map(encodeURIComponent).join(',')}&_count=50` : undefined;
}

/** `$approve` or `$reject` on the request's Task; the reason is kept as Task.statusReason. */
export function reviewRequest(taskId: string, decision: 'approve' | 'reject', reason?: string): { url: string; body: Parameters } {
  const text = reason?.trim();
  return {
    url: `Task/${encodeURIComponent(taskId)}/$${decision}`,
    // FHIR allows no empty array: without a reason, the Parameters has no parameter at all.
    body: text ? { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: text }] } : { resourceType: 'Parameters' },
  };
}

/** `$ccp-disengage`: the organization's access to the patient's plan ends now. */
export function disengageRequest(patient: string, organization: string): { url: string; body: Parameters } {
  return {
    url: `${patient}/$ccp-disengage`,
    body: { resourceType: 'Parameters', parameter: [{ name: 'organization', valueReference: { reference: organization } }] },
  };
}

/**
 * Whether the granted scope lets the user update Tasks, which reviewing needs (user/Task.u, user/*.cruds, the
 * older user/*.write). The role and organization decide too; those the app cannot see, so the server's 403 is
 * explained when it refuses.
 */
export function mayReview(scope: string | undefined): boolean {
  return (scope ?? '').split(/\s+/).some((granted) => {
    const match = /^user\/(\*|Task)\.(\*|write|c?r?u[ds]*)$/.exec(granted);
    return match !== null;
  });
}

/** What an OperationOutcome's issues say, for the user. */
export function outcomeText(body: unknown): string | undefined {
  const issues = (body as { resourceType?: string; issue?: Array<{ diagnostics?: string; details?: { text?: string } }> } | undefined)?.issue;
  if ((body as { resourceType?: string } | undefined)?.resourceType !== 'OperationOutcome' || !issues) return undefined;
  const words = issues.map((issue) => issue.diagnostics ?? issue.details?.text).filter((text): text is string => Boolean(text));
  return words.length ? words.join(' ') : undefined;
}

/** A refused action in words: what the status means for the user, then the server's own words when it gave some. */
export function refusalText(action: string, status: number | undefined, body: unknown): string {
  const said = outcomeText(body);
  const because = said ? ` The server said: ${said}` : '';
  if (status === 403) return `You may not ${action}: only the hosting organization’s coordinators may.${because}`;
  if (status === 409) return `This request was already decided or withdrawn; the list now shows what is still waiting.${because}`;
  if (status === 404) return `This request or patient no longer exists.${because}`;
  if (status === 400 || status === 422) return `The server refused to ${action}.${because}`;
  if (status === 401) return 'Your session has ended. Sign in again.';
  if (status === undefined) return 'The server could not be reached. Check the connection and try again.';
  return `The server answered ${status}. Try again; if it happens again, tell your administrator.${because}`;
}

/**
 * The body of a refused request: fhirclient's HttpError has read the response and appended its JSON to the
 * message (after a blank line), so the OperationOutcome is recovered from there.
 */
export function errorBody(error: unknown): unknown {
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message !== 'string') return undefined;
  const start = message.indexOf('\n\n{');
  if (start < 0) return undefined;
  try {
    return JSON.parse(message.slice(start + 2));
  } catch {
    return undefined;
  }
}
