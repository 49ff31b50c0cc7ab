import type { ParametersParameter } from 'fhir/r4';
import { isConsentHeld } from '../../access/consent-gate.js';
import { forbidden } from '../../access/decide.js';
import { FhirError } from '../../fhir/outcome.js';
import type { Interaction } from '../../rest/types.js';
import { createPlan, initialPlan } from './initial-plan.js';
import { currentPlan, pendingRequests, registrationLock, requirePatient, requireReferenced } from './lookups.js';
import { invalidParameter, OperationInput, outputParameters, required, where } from './parameters.js';
import { ACCESS_LEVELS, accessPeriod, CONSENT_METHODS, DEFAULT_REGISTRATION_DAYS, registrationConsent, registrationTask } from './registration-records.js';
import { reportWritten } from './touched.js';
import { requireRegistrant } from './who-may.js';

const PARAMETERS = ['organization', 'level', 'consentObtainedBy', 'consentObtainedAt', 'consentMethod', 'carePlan'] as const;

/**
 * `POST [base]/Patient/[id]/$ccp-register`: a partner organization asks for access to the patient's CCP, on the
 * patient's express consent. Records a Task (requested) and a Consent (proposed) for the hosting organization's
 * coordinators to review. With `carePlan` the partner initiates the patient's CCP: the plan is created and the
 * registration approved at once, since the organization that obtained the consent is the one starting the plan.
 */
export const ccpRegister: Interaction = async (request, { id }, context) => {
  const { caller, baseUrl } = request;
  const patient = id!;
  const { hostingOrganization } = context.options;
  requireRegistrant(caller, patient, 'requesting a registration ($ccp-register)');
  const now = new Date();
  const input = OperationInput.read(context.schema, request.body, PARAMETERS);

  const organization = required(input.reference('organization', 'Organization', baseUrl) ?? caller.organization, 'organization', 'is required (the caller acts for no organization)');
  if (isConsentHeld(caller, { hostingOrganization }) && organization !== caller.organization) {
    throw forbidden(`you act for Organization/${caller.organization ?? '(none)'}: you may register that organization only`);
  }
  if (organization === hostingOrganization) throw invalidParameter('organization', 'the hosting organization needs no registration');
  const level = required(input.code('level', ACCESS_LEVELS), 'level');
  const obtainedBy = required(input.reference('consentObtainedBy', 'Practitioner', baseUrl) ?? caller.practitioner, 'consentObtainedBy', 'is required (the caller is no practitioner)');
  const obtainedAt = required(input.pastDateTime('consentObtainedAt', now), 'consentObtainedAt');
  const method = required(input.code('consentMethod', CONSENT_METHODS), 'consentMethod');
  const offeredPlan = input.resource('carePlan');
  if (offeredPlan && level !== 'modify') throw invalidParameter('level', 'initiating a CCP (carePlan) needs level modify');
  const plan = offeredPlan && initialPlan(offeredPlan, patient, context);

  return context.store.transaction(async (store) => {
    await requirePatient(store, patient);
    await requireReferenced(store, 'Organization', organization, 'organization');
    await requireReferenced(store, 'Practitioner', obtainedBy, 'consentObtainedBy');
    await store.lock(registrationLock(patient, organization));
    const [pending] = await pendingRequests(store, context, patient, organization, baseUrl);
    if (pending) {
      throw new FhirError(409, {
        code: 'duplicate',
        diagnostics: `Organization/${organization} already asked for access to Patient/${patient}: Task/${pending.id} waits for review`,
        expression: [where('organization')],
      });
    }
    const storedPlan = plan && (await createPlan(store, plan, caller, context, baseUrl));
    const planId = storedPlan?.id ?? (await currentPlan(store, context, patient, baseUrl));
    const period = storedPlan ? accessPeriod(now, context.options.registrationDays ?? DEFAULT_REGISTRATION_DAYS) : undefined;
    const registration = { patient, organization, level, obtainedBy, obtainedAt, method, now, period };
    const consent = await store.create(registrationConsent(registration));
    const task = await store.create(registrationTask(registration, consent.id!, hostingOrganization, planId));
    const output: ParametersParameter[] = [
      { name: 'task', resource: task },
      { name: 'consent', resource: consent },
      ...(storedPlan ? [{ name: 'carePlan', resource: storedPlan }] : []),
    ];
    reportWritten(context, [task, consent, ...(storedPlan ? [storedPlan] : [])]);
    return { status: 201, body: outputParameters(output) };
  });
};
