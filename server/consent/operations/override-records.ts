import type { Communication, Consent, Reference } from 'fhir/r4';
import {
  ACT_CODE,
  CONSENT_SCOPE,
  OVERRIDE_CODE,
  OVERRIDE_REASON,
  type OverrideReason,
  PARTICIPATION_TYPE,
  PRIVACY_SCOPE,
} from '../../conformance/consent-vocabulary.js';

/** The seeds' two grounds for overriding a directive, as a person reads them. */
export const REASON_TEXT: Record<OverrideReason, string> = {
  'patient-consent': "the patient's express consent",
  'risk-of-harm': 'to eliminate or reduce a significant risk of serious bodily harm',
};

/** The override's healthcare provider (v3-ParticipationType). */
const PROVIDER_ROLE = 'PROV';

const COMMUNICATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/communication-category';

export interface Override {
  patient: string;
  practitioner: string;
  organization?: string;
  reason: OverrideReason;
  period: { start: string; end: string };
}

/** The override Consent in the Ontario shape server/conformance/consent-vocabulary.ts documents. */
export function overrideConsent({ patient, practitioner, organization, reason, period }: Override): Consent {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: CONSENT_SCOPE, code: PRIVACY_SCOPE }] },
    category: [{ coding: [{ system: ACT_CODE, code: OVERRIDE_CODE }] }],
    patient: { reference: `Patient/${patient}` },
    // R4 ppc-1 wants a policy: access to information that the patient's directives would otherwise withhold.
    policyRule: { coding: [{ system: ACT_CODE, code: OVERRIDE_CODE }] },
    dateTime: period.start,
    ...(organization ? { organization: [{ reference: `Organization/${organization}` }] } : {}),
    provision: {
      type: 'permit',
      period,
      actor: [{ role: { coding: [{ system: PARTICIPATION_TYPE, code: PROVIDER_ROLE }] }, reference: { reference: `Practitioner/${practitioner}` } }],
      purpose: [{ system: OVERRIDE_REASON, code: reason, display: REASON_TEXT[reason] }],
    },
  };
}

/**
 * The notice to the organization's privacy contacts: who (by id), when, why and until when. Ids only: the notice
 * may travel by email one day, and a patient's name has no business there.
 */
export function overrideNotice(override: Override, consentId: string, recipients: Reference[], note: string | undefined): Communication {
  const { patient, practitioner, organization, reason, period } = override;
  const who = `Practitioner/${practitioner}${organization ? ` of Organization/${organization}` : ''}`;
  const text =
    `Consent override (break-the-glass) by ${who} for Patient/${patient} at ${period.start}. ` +
    `Reason: ${REASON_TEXT[reason]} (${reason}). Access ends ${period.end}. Record: Consent/${consentId}.`;
  return {
    resourceType: 'Communication',
    status: 'completed',
    category: [{ coding: [{ system: COMMUNICATION_CATEGORY, code: 'notification' }] }],
    subject: { reference: `Patient/${patient}` },
    about: [{ reference: `Consent/${consentId}` }],
    sent: period.start,
    sender: { reference: `Practitioner/${practitioner}` },
    ...(recipients.length ? { recipient: recipients } : {}),
    reasonCode: [{ coding: [{ system: OVERRIDE_REASON, code: reason, display: REASON_TEXT[reason] }] }],
    payload: [{ contentString: text }, ...(note !== undefined ? [{ contentString: `The user's note: ${note}` }] : [])],
  };
}
