import type { Consent, Task } from 'fhir/r4';
import { badRequest, FhirError, notFound } from '../../fhir/outcome.js';
import type { ResourceStore } from '../../store/resource-store.js';
import { current, focusConsent, isRegistrationTask } from './lookups.js';

export interface PendingRegistration {
  task: Task & { id: string };
  consent: Consent & { id: string };
}

/** A registration request still waiting for review: Task requested, its Consent proposed. Anything else is a 409. */
export async function pendingRegistration(store: ResourceStore, taskId: string): Promise<PendingRegistration> {
  const task = await current<Task>(store, 'Task', taskId);
  if (!task) throw notFound(`Task/${taskId} is not known`);
  if (!isRegistrationTask(task)) throw badRequest(`Task/${taskId} is not a CCP registration request`);
  const consent = await focusConsent(store, task);
  if (!consent) throw new FhirError(409, { code: 'conflict', diagnostics: `Task/${taskId} names no registration Consent (Task.focus)` });
  if (task.status !== 'requested' || consent.status !== 'proposed') {
    throw new FhirError(409, {
      code: 'business-rule',
      diagnostics: `Task/${taskId} is not waiting for review: the request is ${task.status} and Consent/${consent.id} is ${consent.status}`,
    });
  }
  return { task: { ...task, id: taskId }, consent: { ...consent, id: consent.id! } };
}
