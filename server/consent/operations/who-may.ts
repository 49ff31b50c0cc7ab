import type { Caller } from '../../access/caller.js';
import { isConsentHeld } from '../../access/consent-gate.js';
import { forbidden, grantFor } from '../../access/decide.js';
import type { FhirOptions } from '../../rest/types.js';

/** Who may ask for a registration (or end their own): a caller who may create Tasks or CarePlans. */
export function requireRegistrant(caller: Caller): void {
  try {
    grantFor(caller, 'Task', 'c');
  } catch {
    grantFor(caller, 'CarePlan', 'c');
  }
}

/**
 * Who reviews registrations and disengages partners: the hosting organization's staff and administrators (not
 * held by consent) whose role may update Tasks. A partner never decides on its own access.
 */
export function requireReviewer(caller: Caller, options: FhirOptions, action: string): void {
  if (isConsentHeld(caller, { hostingOrganization: options.hostingOrganization })) {
    throw forbidden(`only the hosting organization's coordinators may ${action}`);
  }
  grantFor(caller, 'Task', 'u');
}
