import { type Caller, UNRESTRICTED } from '../access/caller.js';
import { organizationCaller } from '../access/callers.js';
import { currentCaller as partiesCaller } from '../access/current-caller.js';
import { FhirError } from '../fhir/outcome.js';
import { reachable } from '../rest/reachable.js';
import type { FhirContext } from '../rest/types.js';
import { organizationIsActive } from '../store/auth-activity.js';
import type { Database } from '../store/database.js';
import type { AccessCheck, AccessMoment, FocusRef, SubscriptionOwner } from '../subscriptions/model.js';

/**
 * The access check of notifications (server/subscriptions/model.ts `AccessCheck`): whether a subscription's owner
 * may read the focus now, decided as a read by id with the owner's token would be, from the database as it is:
 *
 * - the client, and the user when there is one, are still active (with their role and organizations), by the
 *   store's query the authorization server asks of every token (server/store/auth-activity.ts);
 * - the caller is rebuilt as a token's is (server/access/callers.ts): the scopes as written, within the user's
 *   current role; the organization, practitioner and role are the user's current PractitionerRole's (a backend
 *   client's, its current registration), so a user moved to another organization is decided as they now are;
 * - the resource is among the rows that caller's read grant reaches and patient consent opens to it, by the one
 *   decision of a restricted read by id (server/rest/reachable.ts, which the pipeline's consent gate asks too).
 *
 * A partner organization's own subscriptions (owner kind `organization`: its notification address, kept by the
 * server, server/subscriptions/partner-subscriptions.ts) are decided as a backend system acting for that
 * organization with the owner's read scopes: the organization must still be active, and registrations, directives
 * and overrides hold it as they hold its clients. The hosting organization is no partner: never yes for it.
 *
 * Anything else is a no (deny by default): an unknown client, user or organization, no scope or role to read the
 * type, a focus that is gone.
 */
export function createAccessCheck(db: Database, context: FhirContext): AccessCheck {
  const decide = async (owner: SubscriptionOwner, focus: FocusRef, moment?: AccessMoment): Promise<boolean> => {
    const caller = await once(moment, `caller ${ownerKey(owner)}`, () => ownerCaller(db, owner, context.options.hostingOrganization));
    if (!caller) return false;
    try {
      return (await reachable(caller, focus.type, focus.id, 'r', context)) !== undefined;
    } catch (error) {
      // The grant's 401/403 (no scope, no role to read the type) and a focus the search cannot name are refusals.
      if (error instanceof FhirError) return false;
      throw error;
    }
  };
  // Within one moment (a fan-out step, a delivery) each owner is looked up once, and each owner and focus decided
  // once: a hundred subscriptions of one client are one decision per event, not a hundred.
  return (owner, focus, moment) => once(moment, `decision ${ownerKey(owner)} ${focus.type}/${focus.id}`, () => decide(owner, focus, moment));
}

/** `work()`'s promise, shared by every asker of `key` within `moment`; without a moment, its own each time. */
function once<T>(moment: AccessMoment | undefined, key: string, work: () => Promise<T>): Promise<T> {
  if (!moment) return work();
  let kept = moment.get(key) as Promise<T> | undefined;
  if (!kept) {
    kept = work();
    moment.set(key, kept);
  }
  return kept;
}

/** An owner's identity for the decisions: everything the caller is rebuilt from. */
function ownerKey(owner: SubscriptionOwner): string {
  return JSON.stringify([owner.kind, owner.clientId, owner.userId, owner.scopes, owner.organization, owner.practitioner, owner.practitionerRole, owner.patient]);
}

/** The owner as a caller now, or undefined when its client or user is no longer active. */
async function ownerCaller(db: Database, owner: SubscriptionOwner, hostingOrganization: string | undefined): Promise<Caller | undefined> {
  if (owner.kind === 'server') return UNRESTRICTED;
  if (owner.kind === 'organization') {
    const id = owner.organization;
    if (id === undefined || id === hostingOrganization || !(await organizationIsActive(db, id))) return undefined;
    return organizationCaller(id, owner.scopes.join(' '));
  }
  if (owner.clientId === undefined) return undefined;
  return partiesCaller(db, { clientId: owner.clientId, userId: owner.userId, scopes: owner.scopes, patient: owner.patient });
}
