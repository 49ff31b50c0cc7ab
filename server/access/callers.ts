import type { PractitionerRole } from 'fhir/r4';
import { idOfReference } from '../fhir/reference.js';
import type { Caller } from './caller.js';
import { ROLE_SYSTEM, roleRights } from './roles.js';
import { parseResourceScope, splitScopes } from './scopes.js';

/**
 * The Caller of a backend client or of a signed-in user, from what the database says of them now: built alike for
 * an access token (server/auth/caller-of-token.ts) and for a subscription's owner (server/notifications/access-check.ts),
 * so that a notification is decided as a request with the same token would be.
 */

/** A backend client acting for itself (and its registered organization, if any) with `scope`. */
export function clientCaller(client: { clientId: string; scope: string; organizationId?: string }): Caller {
  return { kind: 'system', clientId: client.clientId, scopes: scopesOf(client.scope), otherScopes: otherScopesOf(client.scope), organization: client.organizationId };
}

/**
 * An organization itself, with `scope`: what the server's own subscriptions for a partner (its notification
 * address: server/subscriptions/partner-subscriptions.ts) are decided as. A backend system acting for the
 * organization, so registrations, directives and overrides hold it exactly as they hold its clients.
 */
export function organizationCaller(organizationId: string, scope: string): Caller {
  return { kind: 'system', scopes: scopesOf(scope), otherScopes: otherScopesOf(scope), organization: organizationId };
}

/** A signed-in user acting through `clientId` with `scope` in `role` (their current PractitionerRole): scopes ∩ role. */
export function userCallerWithRole(
  user: { clientId: string; userId: string; scope: string; context?: { patient?: string } },
  role: PractitionerRole | undefined,
): Caller {
  return {
    kind: 'user',
    clientId: user.clientId,
    userId: user.userId,
    scopes: scopesOf(user.scope),
    otherScopes: otherScopesOf(user.scope),
    role: roleRights(rolesOf(role)),
    patient: user.context?.patient,
    organization: idOfReference(role?.organization?.reference, 'Organization'),
    practitioner: idOfReference(role?.practitioner?.reference, 'Practitioner'),
    practitionerRole: role?.id,
  };
}

function scopesOf(scope: string) {
  return splitScopes(scope).flatMap((text) => parseResourceScope(text) ?? []);
}

function otherScopesOf(scope: string): string[] {
  return splitScopes(scope).filter((text) => !parseResourceScope(text));
}

/** The role codes of a PractitionerRole (ours only: other code systems grant nothing). */
function rolesOf(role: PractitionerRole | undefined): string[] {
  return (role?.code ?? []).flatMap((concept) => concept.coding ?? []).filter((coding) => coding.system === ROLE_SYSTEM && coding.code).map((coding) => coding.code!);
}
