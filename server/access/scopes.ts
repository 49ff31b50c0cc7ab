import { isResourceType } from '../fhir/resource-types.js';

/** SMART v2 permissions, in the order the specification writes them: create, read, update, delete, search. */
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';
export const PERMISSIONS: readonly Permission[] = ['c', 'r', 'u', 'd', 's'];
/** Each permission as a verb, for messages. */
export const PERMISSION_VERBS: Record<Permission, string> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };

/** Whose data a scope reaches: the patient in context, what the user may see, or anything (a backend system). */
export type ScopeContext = 'patient' | 'user' | 'system';

/**
 * One SMART resource scope: `patient/Observation.rs?category=laboratory` is the patient context, Observation,
 * read and search, only where category is laboratory.
 */
export interface ResourceScope {
  context: ScopeContext;
  /** A resource type, or `*` for all. */
  resourceType: string;
  permissions: Permission[];
  /** The scope's search restriction, as search parameters (`?category=laboratory`), if any. */
  query?: Record<string, string[]>;
  /** The scope as written. */
  text: string;
}

/** The non-resource scopes of SMART App Launch the server understands. */
export const SMART_SCOPES = ['openid', 'fhirUser', 'profile', 'launch', 'launch/patient', 'launch/encounter', 'offline_access', 'online_access'] as const;

/**
 * Our own scopes, for the authorization server's admin API: `admin` manages clients, accounts and the Terms of
 * Use; `ehr-launch` lets an EHR record launch contexts. Backend clients and administrators only.
 */
export const SERVICE_SCOPES = ['admin', 'ehr-launch'] as const;

/** The non-resource scopes the server understands. */
export const NON_RESOURCE_SCOPES = [...SMART_SCOPES, ...SERVICE_SCOPES] as const;

/** SMART v1 actions and the v2 permissions each stands for. */
const V1_ACTIONS: Record<string, Permission[]> = { read: ['r', 's'], write: ['c', 'u', 'd'], '*': ['c', 'r', 'u', 'd', 's'] };

const RESOURCE_SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]+)\.([^?]+)(?:\?(.*))?$/;

/**
 * A resource scope, or undefined when `text` is not one (it may be `openid` or `launch`) or is malformed
 * (`patient/Observation.sr`: v2 permissions must keep the order c, r, u, d, s; an unknown type).
 */
export function parseResourceScope(text: string): ResourceScope | undefined {
  const match = RESOURCE_SCOPE.exec(text);
  if (!match) return undefined;
  const [, context, resourceType, action, search] = match;
  if (resourceType !== '*' && !isResourceType(resourceType)) return undefined;
  const permissions = V1_ACTIONS[action] ?? v2Permissions(action);
  if (!permissions) return undefined;
  // A query restriction is a v2 feature: `.read?x=y` is not a scope.
  if (search !== undefined && V1_ACTIONS[action]) return undefined;
  const scope: ResourceScope = { context: context as ScopeContext, resourceType, permissions, text };
  if (search !== undefined) {
    const query = parseQuery(search);
    if (!query) return undefined;
    scope.query = query;
  }
  return scope;
}

/** `cruds` or an ordered subset of it; undefined otherwise. */
function v2Permissions(action: string): Permission[] | undefined {
  let position = 0;
  const found: Permission[] = [];
  for (const letter of action) {
    const index = PERMISSIONS.indexOf(letter as Permission, position);
    if (index < 0) return undefined;
    found.push(PERMISSIONS[index]);
    position = index + 1;
  }
  return found.length ? found : undefined;
}

function parseQuery(search: string): Record<string, string[]> | undefined {
  if (!search) return undefined;
  const query: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(search)) {
    if (!name || !value) return undefined;
    (query[name] ??= []).push(value);
  }
  return query;
}

/** A space-separated scope string, split, without duplicates, in the order given. */
export function splitScopes(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(/\s+/).filter(Boolean))];
}

/** Whether the server recognises `text` as a scope it can grant (a resource scope or a known one). */
export function isKnownScope(text: string): boolean {
  return (NON_RESOURCE_SCOPES as readonly string[]).includes(text) || parseResourceScope(text) !== undefined;
}

/**
 * Whether `allowed` includes everything `requested` asks for: the same context, the type or `*`, every permission,
 * and no restriction the request would escape (an unrestricted allowance covers a restricted request, not the
 * reverse; two restrictions must be the same).
 */
export function covers(allowed: ResourceScope, requested: ResourceScope): boolean {
  if (allowed.context !== requested.context) return false;
  if (allowed.resourceType !== '*' && allowed.resourceType !== requested.resourceType) return false;
  if (!requested.permissions.every((permission) => allowed.permissions.includes(permission))) return false;
  if (!allowed.query) return true;
  return requested.query !== undefined && sameQuery(allowed.query, requested.query);
}

function sameQuery(a: Record<string, string[]>, b: Record<string, string[]>): boolean {
  const keys = Object.keys(a).sort();
  if (keys.join('&') !== Object.keys(b).sort().join('&')) return false;
  return keys.every((key) => [...a[key]].sort().join(',') === [...b[key]].sort().join(','));
}

/**
 * The scopes of `requested` that `allowed` permits: known non-resource scopes the allowance lists too, and
 * resource scopes some allowed scope covers. What is not permitted is left out (RFC 6749 §3.3 lets a server
 * grant less than asked; the response's `scope` says what was granted).
 */
export function grantable(requested: string[], allowed: string[]): string[] {
  const allowedResource = allowed.flatMap((text) => parseResourceScope(text) ?? []);
  return requested.filter((text) => {
    const scope = parseResourceScope(text);
    if (scope) return allowedResource.some((allowance) => covers(allowance, scope));
    return allowed.includes(text) && (NON_RESOURCE_SCOPES as readonly string[]).includes(text);
  });
}
