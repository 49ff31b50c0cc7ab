import type { Consent, Resource, Task } from 'fhir/r4';
import { notFound } from '../../fhir/outcome.js';
import { idOfReference } from '../../fhir/reference.js';
import { matching } from '../../rest/conditional.js';
import type { FhirContext } from '../../rest/types.js';
import type { ResourceStore } from '../../store/resource-store.js';
import { CAREPLAN_CATEGORY, CCP_CODE, CONSENT_CATEGORY, REGISTRATION_CODE, REGISTRATION_TASK, TASK_CODE_SYSTEM } from '../../conformance/consent-vocabulary.js';
import { invalidParameter } from './parameters.js';

/**
 * The server's own look-ups for the consent operations: they see every row (no caller's access applies), since
 * they decide what the caller may do rather than show anything to them.
 */
const MOST = 1000;

/** The current version of `type/id`, or undefined when there is none (never created, or deleted). */
export async function current<T extends Resource>(store: ResourceStore, type: string, id: string): Promise<T | undefined> {
  const found = await store.read(type, id);
  return found.kind === 'found' ? (found.resource as T) : undefined;
}

export async function requirePatient(store: ResourceStore, id: string): Promise<void> {
  if (!(await current(store, 'Patient', id))) throw notFound(`Patient/${id} is not known`);
}

/** A resource a parameter names must exist: otherwise the request is wrong, and the parameter is named. */
export async function requireReferenced(store: ResourceStore, type: string, id: string, parameter: string): Promise<void> {
  if (!(await current(store, type, id))) throw invalidParameter(parameter, `${type}/${id} is not known`);
}

/** The organization's registration requests for the patient that wait for review. */
export function pendingRequests(store: ResourceStore, context: FhirContext, patient: string, organization: string, baseUrl: string): Promise<Task[]> {
  const criteria = {
    patient: [`Patient/${patient}`],
    requester: [`Organization/${organization}`],
    code: [`${TASK_CODE_SYSTEM}|${REGISTRATION_TASK}`],
    status: ['requested'],
  };
  return matching(store, context.registry, 'Task', criteria, baseUrl, MOST) as Promise<Task[]>;
}

/** The organization's approved registrations for the patient (expired ones too: their status is still active). */
export function activeRegistrations(store: ResourceStore, context: FhirContext, patient: string, organization: string, baseUrl: string): Promise<Consent[]> {
  const criteria = {
    patient: [`Patient/${patient}`],
    actor: [`Organization/${organization}`],
    category: [`${CONSENT_CATEGORY}|${REGISTRATION_CODE}`],
    status: ['active'],
  };
  return matching(store, context.registry, 'Consent', criteria, baseUrl, MOST) as Promise<Consent[]>;
}

/** The patient's CCP that is still going (a registration for an existing plan names it), if there is one. */
export async function currentPlan(store: ResourceStore, context: FhirContext, patient: string, baseUrl: string): Promise<string | undefined> {
  const criteria = { patient: [`Patient/${patient}`], category: [`${CAREPLAN_CATEGORY}|${CCP_CODE}`], status: ['draft,active,on-hold'] };
  const [plan] = await matching(store, context.registry, 'CarePlan', criteria, baseUrl, 1);
  return plan?.id;
}

/** The Consent a registration Task is about (Task.focus). */
export async function focusConsent(store: ResourceStore, task: Task): Promise<Consent | undefined> {
  const id = idOfReference(task.focus?.reference, 'Consent');
  return id === undefined ? undefined : current<Consent>(store, 'Consent', id);
}

export function isRegistrationTask(task: Task): boolean {
  return task.code?.coding?.some((c) => c.system === TASK_CODE_SYSTEM && c.code === REGISTRATION_TASK) ?? false;
}

/** Per patient and organization: registrations and disengagements of one pair take turns, in every process. */
export function registrationLock(patient: string, organization: string): string {
  return `ccp-registration:Patient/${patient}:Organization/${organization}`;
}
