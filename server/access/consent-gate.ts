import type { AccessLevel } from '../conformance/consent-vocabulary.js';
import type { ConsentGate } from '../search/query/model.js';
import type { Caller } from './caller.js';
import type { Permission } from './scopes.js';

/** What the hosting organization's configuration says about consent (FhirOptions.hostingOrganization). */
export interface ConsentSettings {
  hostingOrganization?: string;
}

/**
 * Whether registrations and consent directives hold `caller` back from a patient's plan. Partners are held: a
 * user or backend client acting for an organization other than the hosting one. Not held: the server itself
 * (import, AUTH_DISABLED), the hosting organization's staff and services, backend clients registered without an
 * organization (the operator registers those for the hosting organization), and administrators without an
 * organization (the account made at first start). A user with no organization and no administrator role is held
 * with no organization at all, so they see no plan (deny by default) unless an override lets them.
 */
export function isConsentHeld(caller: Caller, settings: ConsentSettings): boolean {
  if (caller.kind === 'unrestricted' || caller.kind === 'anonymous') return false;
  if (caller.organization !== undefined) return caller.organization !== settings.hostingOrganization;
  if (caller.kind === 'system') return false;
  return !caller.role?.roles.includes('administrator');
}

/** The level of access a permission needs: reading and searching need view; writing needs modify. */
export function levelFor(permission: Permission): AccessLevel {
  return permission === 'r' || permission === 's' ? 'view' : 'modify';
}

/**
 * The consent condition the search SQL applies for `caller` exercising `permission` (server/search/sql/consent.ts),
 * or undefined when the caller is not held by consent.
 */
export function consentGateFor(caller: Caller, permission: Permission, settings: ConsentSettings): ConsentGate | undefined {
  if (!isConsentHeld(caller, settings)) return undefined;
  const gate: ConsentGate = { organization: caller.organization, practitioner: caller.practitioner, level: levelFor(permission) };
  if (caller.practitionerRole !== undefined) gate.practitionerRole = caller.practitionerRole;
  if (isPrivacyContact(caller)) gate.privacyContact = true;
  return gate;
}

/** A user holding the privacy-contact role (their organization's privacy office: docs/CONSENT.md). */
export function isPrivacyContact(caller: Caller): boolean {
  return caller.kind === 'user' && (caller.role?.roles.includes('privacy-contact') ?? false);
}
