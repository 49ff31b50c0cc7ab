import { FhirError } from '../fhir/outcome.js';
import type { Caller } from './caller.js';
import { isOpenDefinitionRead } from './definition-access.js';
import { noticeReadScope } from './notice-access.js';
import { type Permission, PERMISSION_VERBS, type ResourceScope } from './scopes.js';

/**
 * The ways `caller` may exercise `permission` on `resourceType`: `all` without restriction, or the scopes that
 * allow it, each with its own restriction (patient compartment, search query). None → a 403.
 */
export type Grant = 'all' | ResourceScope[];

export function grantFor(caller: Caller, resourceType: string, permission: Permission): Grant {
  if (caller.kind === 'unrestricted') return 'all';
  if (caller.kind === 'anonymous') throw unauthenticated();
  if (isOpenDefinitionRead(resourceType, permission)) return 'all';
  const notices = noticeReadScope(caller, resourceType, permission);
  if (!notices) return grantOfRights(caller, resourceType, permission);
  // Service notices are open to every token (notice-access.ts): whatever else the caller may read of the type, or nothing.
  let grant: Grant;
  try {
    grant = grantOfRights(caller, resourceType, permission);
  } catch {
    return [notices];
  }
  return grant === 'all' ? 'all' : [...grant, notices];
}

/** What the caller's role and token scopes grant together. */
function grantOfRights(caller: Caller, resourceType: string, permission: Permission): Grant {
  if (caller.role && !caller.role.permits(resourceType, permission)) {
    throw forbidden(`your role (${caller.role.roles.join(', ') || 'none'}) does not allow you to ${PERMISSION_VERBS[permission]} ${resourceType}`);
  }
  const fitting = caller.scopes.filter((scope) => (scope.resourceType === '*' || scope.resourceType === resourceType) && scope.permissions.includes(permission));
  const scopes = fitting.filter((scope) => usable(caller, scope));
  if (!scopes.length) {
    // A scope that would fit but cannot be used by this caller is named with why, so the message is not misleading.
    const idle = fitting.map((scope) => `${scope.text} ${UNUSABLE[scope.context]}`);
    throw insufficientScope(`the access token has no scope to ${PERMISSION_VERBS[permission]} ${resourceType}${idle.length ? ` that it can use (${idle.join('; ')})` : ''}`);
  }
  // An unrestricted scope makes the others moot.
  if (scopes.some((scope) => scope.context !== 'patient' && !scope.query)) return 'all';
  return scopes;
}

/** Whether `caller` may do this at all, in some way: for checks that have no rows to restrict (a type's $validate). */
export function requirePermission(caller: Caller, resourceType: string, permissions: Permission[]): void {
  let last: unknown;
  for (const permission of permissions) {
    try {
      grantFor(caller, resourceType, permission);
      return;
    } catch (error) {
      last = error;
    }
  }
  throw last;
}

const UNUSABLE: Record<ResourceScope['context'], string> = {
  patient: 'needs a patient in context (a SMART launch with launch/patient)',
  system: 'is for backend clients, not users',
  user: 'is for signed-in users, not backend clients',
};

/** A `patient/` scope works only with a patient in context; `system/` scopes only for backend clients. */
function usable(caller: Caller, scope: ResourceScope): boolean {
  if (scope.context === 'patient') return caller.patient !== undefined;
  if (scope.context === 'system') return caller.kind === 'system';
  return caller.kind === 'user';
}

/**
 * RFC 6750 §3: no token → 401 with a Bearer challenge (no error code: the client simply did not authenticate).
 * The hint names the discovery document where SMART puts it, under the FHIR base (the root has none).
 */
export function unauthenticated(): FhirError {
  return new FhirError(401, { code: 'login', diagnostics: 'an access token is required (Authorization: Bearer …); see /fhir/.well-known/smart-configuration' }, { 'WWW-Authenticate': 'Bearer' });
}

/** RFC 6750 §3.1: a token without the scope a request needs is a 403 with an `insufficient_scope` challenge. */
export function insufficientScope(diagnostics: string): FhirError {
  // RFC 6750 §3: the description may hold neither `"` nor `\` (it now names scopes, whose queries are the client's text).
  const description = diagnostics.replace(/["\\]/g, "'");
  return new FhirError(403, { code: 'forbidden', diagnostics }, { 'WWW-Authenticate': `Bearer error="insufficient_scope", error_description="${description}"` });
}

export function forbidden(diagnostics: string): FhirError {
  return new FhirError(403, { code: 'forbidden', diagnostics });
}
