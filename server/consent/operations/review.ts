import type { Consent, Task } from 'fhir/r4';
import type { FhirOptions, Interaction } from '../../rest/types.js';
import { pendingRegistration } from './pending-registration.js';
import { OperationInput, outputParameters } from './parameters.js';
import { reportWritten } from './touched.js';
import { requireReviewer } from './who-may.js';
import { changed, replace } from './write.js';

/** What a review decides: what the registration's Consent becomes, and the Task's status that records it. */
export interface ReviewDecision {
  /** For messages: `approve registrations`. */
  action: string;
  consent: (consent: Consent, now: Date, options: FhirOptions) => Partial<Consent>;
  taskStatus: Task['status'];
  businessStatus: string;
}

/**
 * `POST [base]/Task/[id]/$approve` or `$reject`: a hosting coordinator decides on a pending registration request
 * (optional `reason`). Both records change in one transaction, and their history keeps every step.
 */
export function reviewOperation(decision: ReviewDecision): Interaction {
  return async (request, { id }, context) => {
    requireReviewer(request.caller, context.options, decision.action);
    const reason = OperationInput.read(context.schema, request.body, ['reason']).string('reason');
    const now = new Date();
    return context.store.transaction(async (store) => {
      const pending = await pendingRegistration(store, id!);
      const consent = await replace(store, changed(pending.consent, decision.consent(pending.consent, now, context.options)));
      const task = await replace(
        store,
        changed(pending.task, {
          status: decision.taskStatus,
          businessStatus: { text: decision.businessStatus },
          lastModified: now.toISOString(),
          ...(reason !== undefined ? { statusReason: { text: reason } } : {}),
        }),
      );
      reportWritten(context, [task, consent]);
      return { status: 200, body: outputParameters([{ name: 'task', resource: task }, { name: 'consent', resource: consent }]) };
    });
  };
}
