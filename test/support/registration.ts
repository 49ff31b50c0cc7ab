import type { Consent } from 'fhir/r4';
import { CONSENT_ACTION, CONSENT_CATEGORY, CONSENT_SCOPE, PARTICIPATION_TYPE, PRIVACY_SCOPE, RECIPIENT_ROLE, REGISTRATION_CODE } from '../../server/conformance/consent-vocabulary.js';
import type { ResourceStore } from '../../server/store/resource-store.js';

/** A registration of `organization` for `patient`'s plan, in the shape server/conformance/consent-vocabulary.ts documents. */
export function registrationConsent(
  patient: string,
  organization: string,
  level: 'view' | 'modify',
  status: Consent['status'] = 'active',
  period: { start?: string; end?: string } = {},
): Consent {
  return {
    resourceType: 'Consent',
    status,
    scope: { coding: [{ system: CONSENT_SCOPE, code: PRIVACY_SCOPE }] },
    category: [{ coding: [{ system: CONSENT_CATEGORY, code: REGISTRATION_CODE }] }],
    patient: { reference: `Patient/${patient}` },
    provision: {
      type: 'permit',
      ...(period.start || period.end ? { period } : {}),
      actor: [{ role: { coding: [{ system: PARTICIPATION_TYPE, code: RECIPIENT_ROLE }] }, reference: { reference: `Organization/${organization}` } }],
      action: (level === 'modify' ? ['access', 'correct'] : ['access']).map((code) => ({ coding: [{ system: CONSENT_ACTION, code }] })),
    },
  };
}

/**
 * An approved registration of `organization` for `patient`'s plan, written straight to the store as the
 * registration operations would leave it: for suites about something else (sign-in, launch) whose users belong
 * to partner organizations and must reach a patient's plan.
 */
export async function approvedRegistration(store: ResourceStore, organization: string, patient: string, level: 'view' | 'modify' = 'modify'): Promise<Consent> {
  const start = new Date(Date.now() - 60_000).toISOString();
  return (await store.create(registrationConsent(patient, organization, level, 'active', { start }))) as Consent;
}
