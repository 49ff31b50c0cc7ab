import type { Interaction } from '../../rest/types.js';
import { pendingRegistration } from './pending-registration.js';
import { OperationInput, outputParameters } from './parameters.js';
import { accessPeriod, DEFAULT_REGISTRATION_DAYS } from './registration-records.js';
import { reportWritten } from './touched.js';
import { requireReviewer } from './who-may.js';
import { changed, replace } from './write.js';

/**
 * `POST [base]/Task/[id]/$approve`: a hosting coordinator approves a registration request. The organization's
 * access starts now and lasts the configured number of days; both records keep every step in their history.
 */
export const approve: Interaction = async (request, { id }, context) => {
  requireReviewer(request.caller, context.options, 'approve registrations');
  const reason = OperationInput.read(context.schema, request.body, ['reason']).string('reason');
  const now = new Date();
  return context.store.transaction(async (store) => {
    const pending = await pendingRegistration(store, id!);
    const period = accessPeriod(now, context.options.registrationDays ?? DEFAULT_REGISTRATION_DAYS);
    const consent = await replace(store, changed(pending.consent, { status: 'active', provision: { ...pending.consent.provision, period } }));
    const task = await replace(
      store,
      changed(pending.task, {
        status: 'completed',
        businessStatus: { text: 'approved' },
        lastModified: now.toISOString(),
        ...(reason !== undefined ? { statusReason: { text: reason } } : {}),
      }),
    );
    reportWritten(context, [task, consent]);
    return { status: 200, body: outputParameters([{ name: 'task', resource: task }, { name: 'consent', resource: consent }]) };
  });
};
