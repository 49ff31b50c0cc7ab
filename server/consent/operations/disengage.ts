import type { Consent, ParametersParameter, Resource } from 'fhir/r4';
import { isConsentHeld } from '../../access/consent-gate.js';
import { forbidden } from '../../access/decide.js';
import type { Interaction } from '../../rest/types.js';
import { activeRegistrations, focusConsent, pendingRequests, registrationLock, requirePatient } from './lookups.js';
import { OperationInput, outputParameters, required } from './parameters.js';
import { reportWritten } from './touched.js';
import { requireRegistrant, requireReviewer } from './who-may.js';
import { changed, replace } from './write.js';

/**
 * `POST [base]/Patient/[id]/$ccp-disengage`: the organization is no longer involved in the patient's care, and
 * its access ends at once: approved registrations become inactive with their period ending now, requests still
 * waiting are cancelled. Hosting coordinators disengage any partner; a partner may disengage itself.
 */
export const ccpDisengage: Interaction = async (request, { id }, context) => {
  const { caller, baseUrl } = request;
  const patient = id!;
  const input = OperationInput.read(context.schema, request.body, ['organization']);
  const organization = required(input.reference('organization', 'Organization', baseUrl), 'organization');
  if (isConsentHeld(caller, { hostingOrganization: context.options.hostingOrganization })) {
    if (caller.organization !== organization) throw forbidden(`a partner may disengage its own organization only (you act for Organization/${caller.organization ?? '(none)'})`);
    requireRegistrant(caller, patient, 'disengaging your organization');
  } else {
    requireReviewer(caller, context.options, 'disengage other organizations');
  }
  const now = new Date().toISOString();

  return context.store.transaction(async (store) => {
    await requirePatient(store, patient);
    await store.lock(registrationLock(patient, organization));
    const changes: ParametersParameter[] = [];
    const written: Resource[] = [];
    const record = (resource: Resource, status: string) => {
      written.push(resource);
      changes.push({ name: 'changed', part: [{ name: 'resource', valueReference: { reference: `${resource.resourceType}/${resource.id}` } }, { name: 'status', valueCode: status }] });
    };

    for (const registration of await activeRegistrations(store, context, patient, organization, baseUrl)) {
      record(await replace(store, changed(registration, { status: 'inactive', provision: endedNow(registration, now) })), 'inactive');
    }
    for (const task of await pendingRequests(store, context, patient, organization, baseUrl)) {
      const consent = await focusConsent(store, task);
      if (consent?.status === 'proposed') record(await replace(store, changed(consent, { status: 'rejected' })), 'rejected');
      const cancelled = changed(task, { status: 'cancelled', statusReason: { text: 'organization disengaged' }, lastModified: now });
      record(await replace(store, cancelled), 'cancelled');
    }
    reportWritten(context, written);
    return { status: 200, body: outputParameters(changes) };
  });
};

/** The provision with its period ending now (or earlier, if it had already ended). */
function endedNow(registration: Consent, now: string): Consent['provision'] {
  const period = registration.provision?.period;
  const end = period?.end !== undefined && Date.parse(period.end) < Date.parse(now) ? period.end : now;
  return { ...registration.provision, period: { ...period, end } };
}
