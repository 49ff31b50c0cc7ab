import type { Consent } from 'fhir/r4';
import {
  ACT_CODE,
  CONSENT_CATEGORY,
  CONSENT_SCOPE,
  OVERRIDE_CODE,
  PRIVACY_SCOPE,
  REGISTRATION_CODE,
} from './consent-vocabulary.js';

/**
 * What a Consent is in CCP Exchange (./consent-vocabulary.ts): a registration or an override by its category
 * (a registration first, as the access rows read it), a directive when it is any other patient-privacy Consent,
 * `other` otherwise (a treatment or research consent, which governs no access here). Here, below both, because the
 * consent rules (server/consent) and the notification topics (server/notifications) ask it alike.
 */
export type ConsentKind = 'registration' | 'override' | 'directive' | 'other';

export function consentKind(consent: Consent): ConsentKind {
  const codings = (consent.category ?? []).flatMap((category) => category.coding ?? []);
  if (codings.some((coding) => coding.system === CONSENT_CATEGORY && coding.code === REGISTRATION_CODE)) return 'registration';
  if (codings.some((coding) => coding.system === ACT_CODE && coding.code === OVERRIDE_CODE)) return 'override';
  const scope = consent.scope?.coding ?? [];
  return scope.some((coding) => coding.system === CONSENT_SCOPE && coding.code === PRIVACY_SCOPE) ? 'directive' : 'other';
}
