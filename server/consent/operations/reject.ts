import type { Interaction } from '../../rest/types.js';
import { pendingRegistration } from './pending-registration.js';
import { OperationInput, outputParameters } from './parameters.js';
import { reportWritten } from './touched.js';
import { requireReviewer } from './who-may.js';
import { changed, replace } from './write.js';

/** `POST [base]/Task/[id]/$reject`: a hosting coordinator turns a registration request down; no access follows. */
export const reject: Interaction = async (request, { id }, context) => {
  requireReviewer(request.caller, context.options, 'reject registrations');
  const reason = OperationInput.read(context.schema, request.body, ['reason']).string('reason');
  const now = new Date();
  return context.store.transaction(async (store) => {
    const pending = await pendingRegistration(store, id!);
    const consent = await replace(store, changed(pending.consent, { status: 'rejected' }));
    const task = await replace(
      store,
      changed(pending.task, {
        status: 'rejected',
        businessStatus: { text: 'rejected' },
        lastModified: now.toISOString(),
        ...(reason !== undefined ? { statusReason: { text: reason } } : {}),
      }),
    );
    reportWritten(context, [task, consent]);
    return { status: 200, body: outputParameters([{ name: 'task', resource: task }, { name: 'consent', resource: consent }]) };
  });
};
