import type { OperationOutcome, Parameters } from 'fhir/r4';

/**
 * A partner's request for its organization's access to a patient's plan, as the request-access form holds it, and
 * the `$ccp-register` Parameters made from it (docs/CONSENT.md, "Registration"). The server checks all of this
 * again; the form checks it first so that the user hears about a mistake at the field, before anything is sent.
 */

/** The levels and consent methods `$ccp-register` accepts (server/consent/operations/registration-records.ts). */
export const ACCESS_LEVELS = ['view', 'modify'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];
export const CONSENT_METHODS = ['verbal'] as const;
export type ConsentMethod = (typeof CONSENT_METHODS)[number];

export type RequestField = 'level' | 'consentObtainedBy' | 'consentObtainedAt' | 'consentMethod';

export interface RequestForm {
  level: string;
  /** A Practitioner reference (`Practitioner/<id>`, or the same as an absolute URL). */
  consentObtainedBy: string;
  /** An `<input type="datetime-local">` value: local time, `YYYY-MM-DDTHH:MM` or with seconds. */
  consentObtainedAt: string;
  consentMethod: string;
}

export type FieldErrors = Partial<Record<RequestField, string>>;

const PRACTITIONER = /^(?:.*\/)?(Practitioner\/[A-Za-z0-9\-.]{1,64})$/;
const LOCAL_DATE_TIME = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?$/;

/** `Practitioner/<id>` from a reference or the user's fhirUser, relative or absolute; undefined for anything else. */
export function practitionerOf(reference: string | undefined): string | undefined {
  return PRACTITIONER.exec(reference?.trim() ?? '')?.[1];
}

const two = (n: number) => String(n).padStart(2, '0');

/** `date` as an `<input type="datetime-local">` value in the browser's time zone, to the minute. */
export function localInputValue(date: Date): string {
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}T${two(date.getHours())}:${two(date.getMinutes())}`;
}

/** The form as it opens: view access, consent obtained by the signed-in practitioner, now, verbally. */
export function defaultForm(fhirUser: string | undefined, now: Date): RequestForm {
  return { level: 'view', consentObtainedBy: practitionerOf(fhirUser) ?? '', consentObtainedAt: localInputValue(now), consentMethod: 'verbal' };
}

/**
 * A local date-time as a FHIR dateTime with its offset, and the instant it names. `offsetMinutes` is
 * `Date.getTimezoneOffset()` at that time: minutes to add to the local time to get UTC (300 in Toronto in winter).
 */
export function dateTimeOf(local: string, offsetMinutes: number): { dateTime: string; epochMs: number } | undefined {
  const match = LOCAL_DATE_TIME.exec(local.trim());
  if (!match) return undefined;
  const [year, month, day, hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0));
  if (month < 1 || month > 12 || day < 1 || hours > 23 || minutes > 59 || seconds > 59) return undefined;
  const asUtc = Date.UTC(year, month - 1, day, hours, minutes, seconds);
  // Date.UTC rolls 31 February over into March: a day the month does not have is no date.
  if (new Date(asUtc).getUTCDate() !== day) return undefined;
  const sign = offsetMinutes > 0 ? '-' : '+';
  const offset = Math.abs(offsetMinutes);
  const dateTime = `${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6] ?? '00'}${sign}${two(Math.floor(offset / 60))}:${two(offset % 60)}`;
  return { dateTime, epochMs: asUtc + offsetMinutes * 60_000 };
}

/**
 * The `$ccp-register` Parameters for `form`, or what is wrong with it, field by field. `now` is when the user sends
 * it: consent cannot have been obtained later than that.
 */
export function registrationRequest(form: RequestForm, now: Date, offsetMinutes: number): { parameters: Parameters } | { errors: FieldErrors } {
  const errors: FieldErrors = {};
  const level = ACCESS_LEVELS.find((known) => known === form.level);
  if (!level) errors.level = 'Choose the access your organization needs: view, or view and change.';
  const obtainedBy = practitionerOf(form.consentObtainedBy);
  if (!form.consentObtainedBy.trim()) errors.consentObtainedBy = 'Say who obtained the consent: a practitioner, such as Practitioner/123.';
  else if (!obtainedBy) errors.consentObtainedBy = 'This is not a practitioner: write it as Practitioner/ followed by the id, such as Practitioner/123.';
  const obtainedAt = form.consentObtainedAt.trim() ? dateTimeOf(form.consentObtainedAt, offsetMinutes) : undefined;
  if (!form.consentObtainedAt.trim()) errors.consentObtainedAt = 'Say when the patient gave consent.';
  else if (!obtainedAt) errors.consentObtainedAt = 'This is not a date and time.';
  else if (obtainedAt.epochMs > now.getTime()) errors.consentObtainedAt = 'This is in the future: consent must be obtained before the request.';
  const method = CONSENT_METHODS.find((known) => known === form.consentMethod);
  if (!method) errors.consentMethod = 'Only express verbal consent is accepted.';
  if (!level || !obtainedBy || !obtainedAt || !method || Object.keys(errors).length) return { errors };
  return {
    parameters: {
      resourceType: 'Parameters',
      parameter: [
        { name: 'level', valueCode: level },
        { name: 'consentObtainedBy', valueReference: { reference: obtainedBy } },
        { name: 'consentObtainedAt', valueDateTime: obtainedAt.dateTime },
        { name: 'consentMethod', valueCode: method },
      ],
    },
  };
}

const FIELDS: readonly RequestField[] = ['level', 'consentObtainedBy', 'consentObtainedAt', 'consentMethod'];

/** A refusal in words: the OperationOutcome's messages, each at the field its `expression` names, the rest together. */
export interface Refusal {
  message: string;
  fields: FieldErrors;
}

/** What the server's answer `status` with `body` (an OperationOutcome, or anything else) tells the user. */
export function refusalOf(status: number, body: unknown): Refusal {
  const outcome = body as Partial<OperationOutcome> | null;
  const issues = outcome?.resourceType === 'OperationOutcome' && Array.isArray(outcome.issue) ? outcome.issue : [];
  const fields: FieldErrors = {};
  const general: string[] = [];
  for (const issue of issues) {
    const text = issue.diagnostics ?? issue.details?.text;
    if (!text) continue;
    const field = FIELDS.find((name) => issue.expression?.some((path) => path.includes(`name='${name}'`)));
    // At its field, the server's "consentObtainedBy: …" need not name the field again.
    if (field && !fields[field]) fields[field] = text.startsWith(`${field}: `) ? text.slice(field.length + 2) : text;
    else general.push(text);
  }
  const said = general.length ? ` ${general.join(' ')}` : '';
  if (status === 400 || status === 422) return { message: `The request was not accepted. ${Object.keys(fields).length ? 'See the fields marked below.' : ''}${said}`.trim(), fields };
  if (status === 401) return { message: 'Your session has ended. Sign in again to go on.', fields };
  if (status === 403) return { message: `You may not request access for this patient.${said}`, fields };
  if (status === 404) return { message: `The patient or a person named in the request was not found.${said}`, fields };
  if (status === 409) return { message: `Your organization already has a request waiting for review.${said}`, fields };
  return { message: `The server answered ${status}.${said || ' Try again; if it happens again, tell your administrator.'}`, fields };
}
