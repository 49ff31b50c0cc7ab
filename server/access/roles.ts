import type { RoleRights } from './caller.js';
import type { Permission } from './scopes.js';

/** The code system of CCP Exchange user roles, as PractitionerRole.code codings. */
export const ROLE_SYSTEM = 'http://ccp-exchange.org/fhir/CodeSystem/user-role';

/** The seeds' roles, and the hosting organization's administrator. */
export const ROLES = ['viewer', 'contributor', 'coordinator', 'local-registration-authority', 'privacy-contact', 'privacy-auditor', 'administrator'] as const;
export type Role = (typeof ROLES)[number];

/** The plan and what hangs off it: what contributors write. */
const PLAN_TYPES = ['CarePlan', 'Goal', 'CareTeam', 'Condition', 'Provenance', 'Patient', 'ServiceRequest', 'Observation', 'DocumentReference', 'Communication'];
/** Records that are no clinical reader's business: the audit trail, the accounts' roles. */
const NOT_CLINICAL = ['AuditEvent'];

interface Rule {
  /** `*` for every type but NOT_CLINICAL. */
  types: string[] | '*';
  permissions: Permission[];
}

const READ: Permission[] = ['r', 's'];
const WRITE: Permission[] = ['c', 'r', 'u', 's'];

/**
 * What each role may do, whatever the token's scopes (effective rights = scopes ∩ role). Deletion is the
 * administrator's alone: the seeds correct a plan (entered-in-error, new versions), they do not erase it.
 */
const RULES: Record<Role, Rule[]> = {
  viewer: [{ types: '*', permissions: READ }],
  contributor: [
    { types: '*', permissions: READ },
    { types: PLAN_TYPES, permissions: WRITE },
  ],
  coordinator: [
    { types: '*', permissions: READ },
    { types: [...PLAN_TYPES, 'Task', 'Organization', 'Consent'], permissions: WRITE },
  ],
  'local-registration-authority': [{ types: ['Practitioner', 'PractitionerRole', 'Organization'], permissions: WRITE }],
  'privacy-contact': [
    { types: '*', permissions: READ },
    { types: ['Consent'], permissions: WRITE },
  ],
  'privacy-auditor': [{ types: ['AuditEvent', 'Practitioner', 'PractitionerRole', 'Organization'], permissions: READ }],
  administrator: [
    { types: '*', permissions: ['c', 'r', 'u', 'd', 's'] },
    { types: NOT_CLINICAL, permissions: READ },
  ],
};

function ruleAllows(rule: Rule, resourceType: string, permission: Permission): boolean {
  if (!rule.permissions.includes(permission)) return false;
  if (rule.types === '*') return resourceType === '*' || !NOT_CLINICAL.includes(resourceType);
  return rule.types.includes(resourceType);
}

/** The rights of someone holding `roles` (unknown role codes grant nothing). */
export function roleRights(roles: string[]): RoleRights {
  const known = roles.filter((role): role is Role => (ROLES as readonly string[]).includes(role));
  return {
    roles: known,
    permits: (resourceType, permission) => known.some((role) => RULES[role].some((rule) => ruleAllows(rule, resourceType, permission))),
  };
}
