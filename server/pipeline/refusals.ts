import type { Consent, Resource, Task } from 'fhir/r4';
import { auditorRestriction } from '../access/auditor-access.js';
import { subscriptionOwnerRestriction } from '../access/subscription-access.js';
import type { Caller } from '../access/caller.js';
import { isPrivacyContact } from '../access/consent-gate.js';
import { forbidden, type Grant } from '../access/decide.js';
import { type Permission, PERMISSION_VERBS } from '../access/scopes.js';
import { consentKind } from '../conformance/consent-kind.js';
import { isRegistrationTask } from '../consent/operations/lookups.js';
import { throughOperationsOnly } from '../consent/write-rule.js';
import type { FhirError } from '../fhir/outcome.js';
import type { Route } from '../rest/route.js';
import type { WriteInteraction } from '../rest/write-rules.js';

/*
 * The 403s of the authorization step and the consent gate (steps/authorize.ts, steps/consent-gate.ts), each naming the rule that refuses: the token's scopes, the privacy auditor's
 * organization limit, or patient consent, and never one the caller is not under.
 */

/** What makes the caller's reach into `type` row by row rather than whole. */
export interface Restrictions {
  /** The scopes the grant rests on, when each has a patient compartment or a query. */
  grant: Grant;
  /** Held by consent on this type (server/access/consent-gate.ts). */
  held: boolean;
}

/** A route that would have to reach every row of `type` at once, refused under a restriction. */
export function restrictedRouteRefusal(route: Route, type: string, permission: Permission, caller: Caller, restrictions: Restrictions): FhirError {
  const operation = route.pattern.find((segment) => segment.startsWith('$'));
  const what = operation
    ? `${type}/${operation}, which reaches every ${type} at once,`
    : route.pattern.includes('_history')
      ? `the history of ${type === '*' ? 'the whole server' : `every ${type}`}, which reaches every row at once,`
      : `${PERMISSION_VERBS[permission]} by criteria (a conditional interaction, which searches first)`;
  return forbidden(`${what} is not available to you: ${causes(type, caller, restrictions).join('; and ')}`);
}

function causes(type: string, caller: Caller, { grant, held }: Restrictions): string[] {
  const found: string[] = [];
  const audit = auditorRestriction(caller, type);
  if (audit !== undefined) {
    found.push(
      caller.organization
        ? `your role (privacy-auditor) reaches only the AuditEvents that name your organization (Organization/${caller.organization}) as an agent; an administrator can do this`
        : 'your role (privacy-auditor) reaches the AuditEvents of your organization only, and you act for none',
    );
  }
  if (subscriptionOwnerRestriction(caller, type)) found.push('each Subscription is reachable by its owner only, one by one (a search shows your own)');
  if (held) {
    found.push(
      `your organization's access to ${type === '*' ? "patients' plans" : type} depends on patient consent and registrations, resource by resource (use search)`,
    );
  }
  if (grant !== 'all') found.push(`your access token's scopes reach only part of ${type} (${grant.map((scope) => scope.text).join(', ')})`);
  return found;
}

/**
 * A partner may see `current` but not write it: why. Registrations and overrides change only through their
 * operations; a registration request is the partner's to read; anything else needs a modify-level registration.
 */
export function viewOnlyRefusal(interaction: WriteInteraction, current: Resource, next: unknown): FhirError {
  const reason = throughOperationsOnly(interaction, current, isResource(next) ? next : undefined);
  if (reason) return forbidden(reason);
  if (current.resourceType === 'Task' && isRegistrationTask(current as Task)) {
    return forbidden(
      `Task/${current.id} is your organization's registration request, which is yours to read: the hosting organization decides on it ($approve, $reject), and $ccp-disengage withdraws it`,
    );
  }
  return forbidden(`your organization's access to this patient's plan is view only: ${interaction} needs a registration at the modify level`);
}

/** What a partner wrote names a patient it may not write for: why, by its role and what it wrote. */
export function consentWriteRefusal(type: string, written: Resource | undefined, caller: Caller): FhirError {
  const organization = caller.organization;
  if (organization === undefined) {
    return forbidden(`you act for no organization, so you may write ${type} only for a patient whose plan an override of yours opens, and this one names another patient`);
  }
  const patient = written?.resourceType === 'Consent' ? (written as Consent).patient?.reference : undefined;
  if (isPrivacyContact(caller) && type === 'Consent' && written && consentKind(written as Consent) === 'directive') {
    return forbidden(
      `a privacy contact records and ends directives only for the patients of plans their organization takes part in: ` +
        `${patient ?? 'the patient'} needs an active registration of Organization/${organization} (view or modify, approved, within its period)`,
    );
  }
  return forbidden(
    `the ${type} as written names a patient whose plan your organization (Organization/${organization}) may not modify: writing needs an active ` +
      'registration at the modify level and no directive withholding the plan from you or your organization, or an override of yours',
  );
}

/** What a restricted scope allows is narrower than what was written. */
export function scopeWriteRefusal(type: string, grant: Grant): FhirError {
  const scopes = grant === 'all' ? '' : ` (${grant.map((scope) => scope.text).join(', ')})`;
  return forbidden(`the ${type} as written would be outside what your access token's scopes reach${scopes}`);
}

function isResource(value: unknown): value is Resource {
  return typeof value === 'object' && value !== null && typeof (value as Resource).resourceType === 'string';
}
