import type { Caller } from '../../access/caller.js';
import { isConsentHeld } from '../../access/consent-gate.js';
import { forbidden, type Grant, grantFor } from '../../access/decide.js';
import type { FhirOptions } from '../../rest/types.js';

/** Who may ask for a registration (or end their own): a caller who may create Tasks or CarePlans for this patient. */
export function requireRegistrant(caller: Caller, patient: string, action: string): void {
  // The rule is the operation's, not CarePlan's: a role that may create neither is refused in those words.
  if (caller.role && !caller.role.permits('Task', 'c') && !caller.role.permits('CarePlan', 'c')) {
    throw forbidden(`${action} is for roles that create Tasks or CarePlans (coordinator, contributor): your role (${caller.role.roles.join(', ') || 'none'}) does not`);
  }
  let grant: Grant;
  try {
    grant = grantFor(caller, 'Task', 'c');
  } catch {
    grant = grantFor(caller, 'CarePlan', 'c');
  }
  requireReach(caller, grant, patient);
}

/** Who may override a directive: a person whose role and scopes let them read this patient's plan. */
export function requireOverrider(caller: Caller, patient: string): string {
  if (caller.kind !== 'user' || caller.practitioner === undefined) {
    throw forbidden('an override is made by a person (a user acting as a Practitioner), never by a system');
  }
  requireReach(caller, grantFor(caller, 'CarePlan', 'r'), patient);
  return caller.practitioner;
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

/** A token confined to its launch patient (`patient/` scopes) acts for that patient only. */
function requireReach(caller: Caller, grant: Grant, patient: string): void {
  if (grant === 'all') return;
  const confined = grant.every((scope) => scope.context === 'patient');
  if (confined && caller.patient !== patient) throw forbidden(`the access token is confined to another patient than Patient/${patient}`);
}
