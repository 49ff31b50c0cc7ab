import { isConsentHeld } from '../../access/consent-gate.js';
import { grantFor } from '../../access/decide.js';
import type { Permission } from '../../access/scopes.js';
import { isGatedType } from '../../conformance/consent-vocabulary.js';
import { notFound } from '../../fhir/outcome.js';
import { reachable } from '../../rest/reachable.js';
import type { FhirContext, FhirRequest, FhirResponse } from '../../rest/types.js';
import { consentWriteRefusal, scopeWriteRefusal, viewOnlyRefusal } from '../refusals.js';
import type { Step } from '../step.js';

/**
 * The consent gate, row by row, for what the authorization step left restricted: a read, update, patch or delete
 * by id needs the resource to be among the rows the grant reaches and patient consent opens
 * (server/access/consent-gate.ts) at the level the permission needs: a row the caller may see but not modify is a
 * 403, one it may not see a 404, as if it did not exist (an update may still create one that does not exist). What
 * a create, update or patch writes must be among those rows too: `checkWritten` asks after the write, inside its
 * transaction (the interaction step). Searches carry the same rule in their SQL (server/access/search-access.ts).
 */
export const consentGate: Step = async (state, next) => {
  const { params, request, context } = state;
  for (const { permission } of state.restricted) {
    if (permission === 'c') {
      state.checkAfterWrite.push('c');
      continue;
    }
    const type = params!.type!;
    const id = params!.id!;
    const reached = await reachable(request.caller, type, id, permission, context);
    // A read answers from the row found here: one statement for the check and the read (FhirContext.reached).
    if (reached && permission === 'r') state.context = { ...state.context, reached: { type, id, resource: reached } };
    if (!reached) {
      // Update may create a resource that does not exist (or was deleted); one that exists must be reachable.
      const current = await context.store.read(type, id);
      const held = isGatedType(type) && isConsentHeld(request.caller, context.options);
      if (current.kind === 'found' && permission !== 'r' && held && (await isReachable(type, id, 'r', request, context))) {
        throw viewOnlyRefusal(permission === 'd' ? 'delete' : request.method === 'PATCH' ? 'patch' : 'update', current.resource, request.body);
      }
      if (current.kind === 'found' || permission !== 'u') throw notFound(`${type}/${id} is not known`);
    }
    if (permission === 'u') state.checkAfterWrite.push('u');
  }
  return next();
};

/**
 * After a create, update or patch under a restricted grant: the resource as written must be reachable by the
 * grant (in the launch patient's compartment, matching the scope's query, opened by consent). Throwing here rolls
 * the write back.
 */
export async function checkWritten(type: string, response: FhirResponse, permissions: Permission[], request: FhirRequest, context: FhirContext): Promise<void> {
  const id = response.body?.id ?? /\/([A-Za-z0-9\-.]{1,64})\/_history\//.exec(response.headers?.Location ?? '')?.[1];
  for (const permission of permissions) {
    if (id && (await isReachable(type, id, permission, request, context))) continue;
    // Which rule keeps it out: the token's scopes (out of reach even without consent), else patient consent.
    if (!id || !(await isReachable(type, id, permission, request, context, false))) throw scopeWriteRefusal(type, grantFor(request.caller, type, permission));
    throw consentWriteRefusal(type, response.body, request.caller);
  }
}

/**
 * `type/id` is one of the rows the caller's `permission` grant reaches (asked of the database like a search); with
 * `consent` false, leaving patient consent aside (to tell which rule refused).
 */
async function isReachable(type: string, id: string, permission: Permission, request: FhirRequest, context: FhirContext, consent = true): Promise<boolean> {
  return (await reachable(request.caller, type, id, permission, context, consent)) !== undefined;
}
