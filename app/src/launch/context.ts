/**
 * What the token response says about the launch's context (SMART App Launch 2.2 §"Launch context"): the
 * resources named by `fhirContext` and whether the app should show a patient banner.
 */

/** Both forms servers send: SMART 2.2's `[{ reference: 'CarePlan/x' }]` and the older `['CarePlan/x']`. */
export type FhirContextItem = string | { reference?: string; type?: string; identifier?: unknown; role?: string };

/** `Type/id` of each item that names a resource by reference, in order; anything else is skipped. */
export function contextReferences(fhirContext: unknown): string[] {
  if (!Array.isArray(fhirContext)) return [];
  return fhirContext
    .map((item: unknown) => (typeof item === 'string' ? item : item && typeof item === 'object' && typeof (item as { reference?: unknown }).reference === 'string' ? (item as { reference: string }).reference : undefined))
    .map((reference) => (reference ? /(?:^|\/)([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})$/.exec(reference)?.[1] : undefined))
    .filter((reference): reference is string => Boolean(reference));
}

/** The id of the first CarePlan the launch names, if any: the app opens that plan. */
export function carePlanInContext(fhirContext: unknown): string | undefined {
  return contextReferences(fhirContext)
    .find((reference) => reference.startsWith('CarePlan/'))
    ?.slice('CarePlan/'.length);
}

/**
 * Whether to show the patient banner. An EHR that already shows the patient says `need_patient_banner: false`;
 * without the parameter (a server that does not send it, a standalone launch) the app cannot know, and shows it:
 * a clinician must always be able to see whose plan this is.
 */
export function showPatientBanner(tokenResponse: { need_patient_banner?: unknown } | undefined): boolean {
  return tokenResponse?.need_patient_banner !== false;
}
