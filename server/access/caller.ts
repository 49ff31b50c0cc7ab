import type { Permission, ResourceScope } from './scopes.js';

/** What a user's role lets them do, whatever their token's scopes say (effective rights = scopes ∩ role). */
export interface RoleRights {
  roles: string[];
  permits(resourceType: string, permission: Permission): boolean;
}

/**
 * Who is asking, as the access rules see it. Built from a verified access token at the edge (server/auth) and
 * carried on every FhirRequest, Bundle entries included.
 */
export interface Caller {
  /**
   * `unrestricted`: the server itself (the import command) or a server started with AUTH_DISABLED;
   * `anonymous`: no access token (public routes only).
   */
  kind: 'user' | 'system' | 'unrestricted' | 'anonymous';
  clientId?: string;
  userId?: string;
  /** The token's resource scopes. */
  scopes: ResourceScope[];
  /** The token's other scopes (`openid`, `admin`, …), as written. */
  otherScopes?: string[];
  /** A user's role rights; absent for backend systems, whose registration bounds their scopes. */
  role?: RoleRights;
  /** The patient in context (SMART launch), which `patient/` scopes are confined to. */
  patient?: string;
  /**
   * The Organization (id) the caller acts for: a user's PractitionerRole.organization, a backend client's
   * registered organization. Consent and registrations are decided per organization (server/consent).
   */
  organization?: string;
  /** A user's Practitioner (id), whom consent directives and overrides can name. */
  practitioner?: string;
  /** A user's PractitionerRole (id), to which override notices are addressed (server/consent/operations/override.ts). */
  practitionerRole?: string;
}

export const UNRESTRICTED: Caller = { kind: 'unrestricted', scopes: [] };
export const ANONYMOUS: Caller = { kind: 'anonymous', scopes: [] };
