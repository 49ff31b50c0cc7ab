import type { Interaction } from '../../rest/types.js';
import { OVERRIDE_REASONS } from '../../conformance/consent-vocabulary.js';
import { requirePatient } from './lookups.js';
import { overrideConsent, overrideNotice } from './override-records.js';
import { OperationInput, outputParameters, required } from './parameters.js';
import { privacyContacts } from './privacy-contacts.js';
import { DEFAULT_OVERRIDE_HOURS } from './registration-records.js';
import { reportWritten } from './touched.js';
import { requireOverrider } from './who-may.js';

/**
 * `POST [base]/Patient/[id]/$override` (break-the-glass): a user states why they must see this patient's plan
 * despite a directive, and gets access for a few hours. The override Consent and the notice to the privacy
 * contacts of the user's organization commit together: there is no override nobody is told about.
 */
export const override: Interaction = async (request, { id }, context) => {
  const { caller, baseUrl } = request;
  const patient = id!;
  const practitioner = requireOverrider(caller, patient);
  const input = OperationInput.read(context.schema, request.body, ['reason', 'note']);
  const reason = required(input.code('reason', OVERRIDE_REASONS), 'reason');
  const note = input.string('note');
  const now = new Date();
  const hours = context.options.overrideHours ?? DEFAULT_OVERRIDE_HOURS;
  const period = { start: now.toISOString(), end: new Date(now.getTime() + hours * 3600 * 1000).toISOString() };
  const organization = caller.organization;
  const notified = organization ?? context.options.hostingOrganization;

  return context.store.transaction(async (store) => {
    await requirePatient(store, patient);
    const facts = { patient, practitioner, organization, reason, period };
    const consent = await store.create(overrideConsent(facts));
    // With no privacy contact on record the organization itself is told, so the notice always has an addressee.
    const contacts = notified === undefined ? [] : await privacyContacts(store, context, notified, baseUrl);
    const recipients = contacts.length || notified === undefined ? contacts : [{ reference: `Organization/${notified}` }];
    const communication = await store.create(overrideNotice(facts, consent.id!, recipients, note));
    reportWritten(context, [consent, communication]);
    return { status: 201, body: outputParameters([{ name: 'consent', resource: consent }, { name: 'communication', resource: communication }]) };
  });
};
