import type { CodeableConcept, Consent, Task } from 'fhir/r4';
import {
  type AccessLevel,
  ACT_CODE,
  CONSENT_ACTION,
  CONSENT_CATEGORY,
  CONSENT_SCOPE,
  EXPRESS_CONSENT_EXTENSION,
  MODIFY_ACTION,
  PARTICIPATION_TYPE,
  PRIVACY_SCOPE,
  RECIPIENT_ROLE,
  REGISTRATION_CODE,
  REGISTRATION_TASK,
  TASK_CODE_SYSTEM,
  VIEW_ACTION,
} from '../../conformance/consent-vocabulary.js';

/** The seeds' consent model: express consent, given verbally. */
export const CONSENT_METHODS = ['verbal'] as const;
export type ConsentMethod = (typeof CONSENT_METHODS)[number];

export const ACCESS_LEVELS: readonly AccessLevel[] = ['view', 'modify'];

/** Task.input types: the access level asked for, and the plan the registration is about. */
export const LEVEL_INPUT: CodeableConcept = { text: 'access level' };
export const PLAN_INPUT: CodeableConcept = { text: 'care plan' };

export interface Registration {
  patient: string;
  organization: string;
  level: AccessLevel;
  obtainedBy: string;
  obtainedAt: string;
  method: ConsentMethod;
  /** When the request is recorded. */
  now: Date;
  /** The period of access, when the registration is approved as it is made (a new CCP's initiator). */
  period?: { start: string; end: string };
}

/** The registration Consent in the shape server/conformance/consent-vocabulary.ts documents. */
export function registrationConsent(registration: Registration): Consent {
  const { patient, organization, level, obtainedBy, obtainedAt, method, now, period } = registration;
  const actions = level === 'modify' ? [VIEW_ACTION, MODIFY_ACTION] : [VIEW_ACTION];
  return {
    resourceType: 'Consent',
    extension: [
      {
        url: EXPRESS_CONSENT_EXTENSION,
        extension: [
          { url: 'obtainedBy', valueReference: { reference: `Practitioner/${obtainedBy}` } },
          { url: 'obtainedAt', valueDateTime: obtainedAt },
          { url: 'method', valueCode: method },
        ],
      },
    ],
    status: period ? 'active' : 'proposed',
    scope: { coding: [{ system: CONSENT_SCOPE, code: PRIVACY_SCOPE }] },
    category: [{ coding: [{ system: CONSENT_CATEGORY, code: REGISTRATION_CODE }] }],
    patient: { reference: `Patient/${patient}` },
    dateTime: now.toISOString(),
    performer: [{ reference: `Patient/${patient}` }],
    // R4 ppc-1 wants a policy: the patient opts in to this organization's access.
    policyRule: { coding: [{ system: ACT_CODE, code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      ...(period ? { period } : {}),
      actor: [{ role: { coding: [{ system: PARTICIPATION_TYPE, code: RECIPIENT_ROLE }] }, reference: { reference: `Organization/${organization}` } }],
      action: actions.map((code) => ({ coding: [{ system: CONSENT_ACTION, code }] })),
    },
  };
}

/** The registration request, waiting for review (or already completed when approved as it is made). */
export function registrationTask(registration: Registration, consentId: string, owner: string | undefined, plan: string | undefined): Task {
  const { patient, organization, level, now, period } = registration;
  return {
    resourceType: 'Task',
    status: period ? 'completed' : 'requested',
    ...(period ? { businessStatus: { text: 'approved' } } : {}),
    intent: 'order',
    code: { coding: [{ system: TASK_CODE_SYSTEM, code: REGISTRATION_TASK }] },
    focus: { reference: `Consent/${consentId}` },
    for: { reference: `Patient/${patient}` },
    authoredOn: now.toISOString(),
    lastModified: now.toISOString(),
    requester: { reference: `Organization/${organization}` },
    ...(owner ? { owner: { reference: `Organization/${owner}` } } : {}),
    input: [{ type: LEVEL_INPUT, valueCode: level }, ...(plan ? [{ type: PLAN_INPUT, valueReference: { reference: `CarePlan/${plan}` } }] : [])],
  };
}

/** An approved registration's access lasts `days` from `now`. */
export function accessPeriod(now: Date, days: number): { start: string; end: string } {
  return { start: now.toISOString(), end: new Date(now.getTime() + days * 24 * 3600 * 1000).toISOString() };
}

export const DEFAULT_REGISTRATION_DAYS = 365;
export const DEFAULT_OVERRIDE_HOURS = 4;
