/**
 * The codes that give Consent resources their meaning in CCP Exchange. Everything that reads or writes
 * registrations, directives and overrides uses these, so the shapes below are the one contract between the
 * operations (server/consent/operations), the access rows (server/search/index/access-rows.ts) and the tests.
 * The systems are the CCP guide's (conformance/profiles), and the consent decision reads them in SQL
 * (server/search/sql/consent.ts), so they live here, below search and access.
 *
 * Registration (a partner organization's access to a patient's CCP, on the patient's express consent):
 *   Consent.status      proposed (requested) → active (approved) → inactive (disengaged); rejected
 *   Consent.scope       consentscope#patient-privacy
 *   Consent.category    CONSENT_CATEGORY#ccp-registration
 *   Consent.patient     Patient/P
 *   Consent.provision   { type: permit, period: { start, end }, actor: [{ role: IRCP, reference: Organization/O }],
 *                         action: [access] (view) or [access, correct] (view and modify) }
 *   Consent.extension   EXPRESS_CONSENT_EXTENSION: who obtained the consent, when, method (verbal)
 *
 * Consent directive (the patient withholds the plan): any other active patient-privacy Consent.
 *   provision.type deny, with actors (Organization/O, Practitioner/U) or none (everyone); nested provisions of
 *   type permit name exceptions. A top-level permit with nested deny provisions denies those actors.
 *   provision.period bounds it in time. Deny wins over registration.
 *
 * Override (break-the-glass), Ontario's consent override shape:
 *   Consent.status      active
 *   Consent.category    v3-ActCode#INFA
 *   Consent.provision   { type: permit, period: { start, end }, actor: [{ role: PROV?, reference: Practitioner/U }],
 *                         purpose: [OVERRIDE_REASON#patient-consent | OVERRIDE_REASON#risk-of-harm] }
 */
export const CONSENT_CATEGORY = 'http://ccp-exchange.org/fhir/CodeSystem/consent-category';
export const REGISTRATION_CODE = 'ccp-registration';
export const DIRECTIVE_CODE = 'consent-directive';

export const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
/** Ontario's consent override profile: the category of an override Consent. */
export const OVERRIDE_CODE = 'INFA';

export const CONSENT_SCOPE = 'http://terminology.hl7.org/CodeSystem/consentscope';
export const PRIVACY_SCOPE = 'patient-privacy';

export const CONSENT_ACTION = 'http://terminology.hl7.org/CodeSystem/consentaction';
/** `access` alone is view; with `correct` it is view and modify. */
export const VIEW_ACTION = 'access';
export const MODIFY_ACTION = 'correct';

export const PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
/** The registered organization receives the information. */
export const RECIPIENT_ROLE = 'IRCP';

/** Why a user overrode a directive: the seeds' two reasons. */
export const OVERRIDE_REASON = 'http://ccp-exchange.org/fhir/CodeSystem/override-reason';
export const OVERRIDE_REASONS = ['patient-consent', 'risk-of-harm'] as const;
export type OverrideReason = (typeof OVERRIDE_REASONS)[number];

/** The express consent behind a registration: complex extension with obtainedBy (Reference), obtainedAt (dateTime), method (code). */
export const EXPRESS_CONSENT_EXTENSION = 'http://ccp-exchange.org/fhir/StructureDefinition/express-consent';

/** The registration Task's code. */
export const TASK_CODE_SYSTEM = 'http://ccp-exchange.org/fhir/CodeSystem/task-code';
export const REGISTRATION_TASK = 'ccp-registration';

/** A CCP is a CarePlan with this category. */
export const CAREPLAN_CATEGORY = 'http://ccp-exchange.org/fhir/CodeSystem/careplan-category';
export const CCP_CODE = 'ccp';

/** Access level of a registration. */
export type AccessLevel = 'view' | 'modify';

/**
 * The resource types of a patient's plan that registrations and directives govern: a partner sees a row of
 * these only when its organization may see every patient the row belongs to (server/access/consent-gate.ts).
 */
export const GATED_TYPES = ['CarePlan', 'Goal', 'CareTeam', 'Condition', 'Task', 'DocumentReference', 'Consent', 'Provenance'] as const;

/** Where a row of a gated type names its patients: the R4 Patient compartment, and Task.for (Task is outside it). */
export const PATIENT_PARAMS: Record<(typeof GATED_TYPES)[number], string[]> = {
  CarePlan: ['patient', 'performer'],
  Goal: ['patient'],
  CareTeam: ['patient', 'participant'],
  Condition: ['patient', 'asserter'],
  Task: ['patient'],
  DocumentReference: ['subject', 'author'],
  Consent: ['patient'],
  Provenance: ['patient'],
};

export function isGatedType(type: string): boolean {
  return (GATED_TYPES as readonly string[]).includes(type);
}
