import type { CarePlan, Consent, Goal, Patient, ParametersParameter, Task } from 'fhir/r4';
import {
  ACT_CODE,
  CAREPLAN_CATEGORY,
  CCP_CODE,
  CONSENT_CATEGORY,
  CONSENT_SCOPE,
  DIRECTIVE_CODE,
  PARTICIPATION_TYPE,
  PRIVACY_SCOPE,
  type AccessLevel,
} from '../conformance/consent-vocabulary.js';
import { accessPeriod, registrationConsent, registrationTask } from '../consent/operations/registration-records.js';
import { outputResource, type Actor } from './requests.js';
import { carePlanId, HOST, MRN_SYSTEM, STORY_PATIENTS, type StoryPatient } from './world.js';

const GUIDE = 'http://ccp-exchange.org/fhir';
const DAY = 24 * 3600 * 1000;

/** The ids of p5's registration, written as data (the operations' records get the server's ids). */
export const EXPIRED_REGISTRATION = { patient: 'p5', organization: 'home-care', consent: 'registration-p5-home-care', task: 'registration-request-p5-home-care' };

/** The people the story happens through, each an Actor with their own caller (server/demo/callers.ts). */
export interface Cast {
  coordinator: Actor;
  /** Of home-care. */
  contributor: Actor;
  viewer: Actor;
  /** A contributor of primary-care. */
  gp: Actor;
  /** The server itself: only for what no operation can do (a registration whose period has ended). */
  server: Actor;
}

/** A registration as the story left it. */
export interface StoryRegistration {
  patient: string;
  organization: string;
  /** The Consent's status, and for the expired one that its period has ended. */
  status: string;
  task: string;
  consent: string;
}

/**
 * The five story patients (world.ts) and what happened to their registrations, each step through the operation
 * a person of the world would use: the plans by the hosting coordinator, registrations by the partners' staff,
 * reviews and the disengagement by the coordinator, the directive by the coordinator (a partner may not write
 * the Consents of a patient it only views), the override by the viewer. Only p5's registration, approved a year
 * and more ago, is written as data by the server itself: no operation makes the past.
 */
export async function tellStory(cast: Cast, now: Date): Promise<StoryRegistration[]> {
  const { coordinator, contributor, viewer, gp } = cast;
  for (const patient of STORY_PATIENTS) await coordinator.put([patientOf(patient), ...goalsOf(patient, now), carePlanOf(patient, now)]);
  const registrations: StoryRegistration[] = [];
  const register = async (who: Actor, patient: string, level: AccessLevel, organization: string) => {
    const output = await who.operation(`Patient/${patient}/$ccp-register`, [
      { name: 'level', valueCode: level },
      { name: 'consentObtainedAt', valueDateTime: new Date(now.getTime() - 2 * 3600 * 1000).toISOString() },
      { name: 'consentMethod', valueCode: 'verbal' },
    ]);
    const record = { patient, organization, status: 'proposed', task: outputResource<Task>(output, 'task').id!, consent: outputResource<Consent>(output, 'consent').id! };
    registrations.push(record);
    return record;
  };
  const review = async (record: StoryRegistration, decision: '$approve' | '$reject', reason: string) => {
    const output = await coordinator.operation(`Task/${record.task}/${decision}`, [{ name: 'reason', valueString: reason }]);
    record.status = outputResource<Consent>(output, 'consent').status;
  };

  // p2: home-care approved (modify); primary-care asked for view and waits.
  await review(await register(contributor, 'p2', 'modify', 'home-care'), '$approve', 'home care nurse visits weekly');
  await register(gp, 'p2', 'view', 'primary-care');

  // p3: home-care turned down; primary-care approved, then no longer involved.
  await review(await register(contributor, 'p3', 'view', 'home-care'), '$reject', 'the patient receives no home care services');
  const p3PrimaryCare = await register(gp, 'p3', 'modify', 'primary-care');
  await review(p3PrimaryCare, '$approve', 'family physician');
  await coordinator.operation('Patient/p3/$ccp-disengage', [{ name: 'organization', valueReference: { reference: 'Organization/primary-care' } }]);
  p3PrimaryCare.status = 'inactive';

  // p4: home-care may view; the patient withholds the plan from one person there, who overrides with consent.
  await review(await register(contributor, 'p4', 'view', 'home-care'), '$approve', 'home care nurse visits');
  await coordinator.send('POST', 'Consent', directiveWithholdingFrom('p4', 'Practitioner/viewer', now));
  await viewer.operation('Patient/p4/$override', [
    { name: 'reason', valueCode: 'patient-consent' },
    { name: 'note', valueString: 'The patient asked me to read his plan with him during the visit.' },
  ] satisfies ParametersParameter[]);

  registrations.push(await expiredRegistration(cast.server, EXPIRED_REGISTRATION.patient, EXPIRED_REGISTRATION.organization, now));
  return registrations;
}

/** `Type/id` of what tellStory writes with ids of its own (the operations' records get the server's). */
export function storyKeys(): string[] {
  return [
    ...STORY_PATIENTS.flatMap((patient) => [`Patient/${patient.id}`, `CarePlan/${carePlanId(patient.id)}`, ...patient.goals.map((_, n) => `Goal/${goalId(patient, n)}`)]),
    `Consent/${EXPIRED_REGISTRATION.consent}`,
    `Task/${EXPIRED_REGISTRATION.task}`,
  ];
}

function patientOf(patient: StoryPatient): Patient & { id: string } {
  return {
    resourceType: 'Patient',
    id: patient.id,
    active: true,
    identifier: [{ use: 'usual', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, system: MRN_SYSTEM, value: patient.mrn }],
    name: [{ use: 'official', ...patient.name }],
    gender: patient.gender,
    birthDate: patient.birthDate,
    managingOrganization: { reference: `Organization/${HOST}` },
  };
}

const goalId = (patient: StoryPatient, n: number) => `goal-${patient.id}-${n + 1}`;
const day = (at: number) => new Date(at).toISOString().slice(0, 10);

function goalsOf(patient: StoryPatient, now: Date): Array<Goal & { id: string }> {
  const start = now.getTime() - patient.planDaysAgo * DAY;
  return patient.goals.map((text, n) => ({
    resourceType: 'Goal',
    id: goalId(patient, n),
    meta: { profile: [`${GUIDE}/StructureDefinition/ccp-goal`] },
    lifecycleStatus: 'active',
    description: { text },
    subject: { reference: `Patient/${patient.id}` },
    expressedBy: { reference: `Patient/${patient.id}` },
    startDate: day(start),
    target: [{ dueDate: day(now.getTime() + 180 * DAY) }],
  }));
}

function carePlanOf(patient: StoryPatient, now: Date): CarePlan & { id: string } {
  const start = now.getTime() - patient.planDaysAgo * DAY;
  return {
    resourceType: 'CarePlan',
    id: carePlanId(patient.id),
    meta: { profile: [`${GUIDE}/StructureDefinition/ccp-careplan`] },
    status: 'active',
    intent: 'plan',
    category: [{ coding: [{ system: CAREPLAN_CATEGORY, code: CCP_CODE }] }],
    title: 'Coordinated care plan',
    subject: { reference: `Patient/${patient.id}` },
    period: { start: day(start) },
    created: new Date(start).toISOString(),
    author: { reference: 'Practitioner/coordinator' },
    goal: patient.goals.map((_, n) => ({ reference: `Goal/${goalId(patient, n)}` })),
    activity: [{ detail: { kind: 'ServiceRequest', status: 'in-progress', description: patient.activity } }],
  };
}

/** The patient withholds their plan from one person (docs/CONSENT.md, consent directives). */
function directiveWithholdingFrom(patient: string, actor: string, now: Date): Consent {
  return {
    resourceType: 'Consent',
    meta: { profile: [`${GUIDE}/StructureDefinition/ccp-consent-directive`] },
    status: 'active',
    scope: { coding: [{ system: CONSENT_SCOPE, code: PRIVACY_SCOPE }] },
    category: [{ coding: [{ system: CONSENT_CATEGORY, code: DIRECTIVE_CODE }] }],
    patient: { reference: `Patient/${patient}` },
    dateTime: now.toISOString(),
    performer: [{ reference: `Patient/${patient}` }],
    policyRule: { coding: [{ system: ACT_CODE, code: 'OPTOUT' }] },
    provision: { type: 'deny', actor: [{ role: { coding: [{ system: PARTICIPATION_TYPE, code: 'IRCP' }] }, reference: { reference: actor } }] },
  };
}

/**
 * A registration requested 400 days ago and approved the next day for the server's default 365 days: ended a
 * month ago. Its records have the shapes $ccp-register and $approve leave (the same builders make them); the
 * server itself writes them, as the consent write rule lets only it (server/consent/write-rule.ts).
 */
async function expiredRegistration(server: Actor, patient: string, organization: string, now: Date): Promise<StoryRegistration> {
  const requested = new Date(now.getTime() - 400 * DAY);
  const approved = new Date(requested.getTime() + DAY);
  const registration = {
    patient,
    organization,
    level: 'modify' as const,
    obtainedBy: 'contributor',
    obtainedAt: new Date(requested.getTime() - 3600 * 1000).toISOString(),
    method: 'verbal' as const,
    now: requested,
  };
  const proposed = registrationConsent(registration);
  const consent: Consent & { id: string } = {
    ...proposed,
    id: EXPIRED_REGISTRATION.consent,
    status: 'active',
    provision: { ...proposed.provision, period: accessPeriod(approved, 365) },
  };
  const task: Task & { id: string } = {
    ...registrationTask(registration, consent.id, HOST, carePlanId(patient)),
    id: EXPIRED_REGISTRATION.task,
    status: 'completed',
    businessStatus: { text: 'approved' },
    lastModified: approved.toISOString(),
  };
  await server.put([consent, task]);
  return { patient, organization, status: 'active, period ended (expired)', task: task.id, consent: consent.id };
}
