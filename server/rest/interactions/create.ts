import { FhirError } from '../../fhir/outcome.js';
import type { ResourceStore } from '../../store/resource-store.js';
import { validateResource } from '../../validation/validate-resource.js';
import { criteriaOf, lockKey, matching } from '../conditional.js';
import { versionHeaders, versionUrl } from '../headers.js';
import { withReturnPreference } from '../prefer.js';
import type { Interaction } from '../types.js';
import { rulesContext, writeUnderRules } from '../write-rules.js';

/**
 * `POST [base]/[type]`: the server assigns the id; an id in the body is ignored, as the specification says.
 * With `If-None-Exist` (conditional create): no match → create; one → 200 with it; several → 412. Writers with
 * the same criteria take turns on a database lock, so parallel conditional creates make exactly one resource.
 */
export const create: Interaction = async (request, { type }, context) => {
  const { store, registry } = context;
  const resource = validateResource(context, request.body, type!);
  const condition = request.headers['if-none-exist'];
  const change = { interaction: 'create', resourceType: type!, id: request.assignedId, resource, caller: request.caller } as const;
  const write = (tx: ResourceStore) =>
    writeUnderRules(change, rulesContext(context, request.baseUrl, tx), (rulesStore, ruled) => rulesStore.create(ruled!, request.assignedId), (stored) => ({ resource: stored }));
  const outcome = condition
    ? await store.transaction(async (tx) => {
        const criteria = criteriaOf(condition);
        await tx.lock(lockKey(type!, criteria));
        const found = await matching(tx, registry, type!, criteria, request.baseUrl, 2);
        if (found.length > 1) {
          throw new FhirError(412, { code: 'duplicate', diagnostics: `If-None-Exist matches several ${type} resources: make the criteria more selective` });
        }
        return found.length ? { created: false, resource: found[0] } : { created: true, resource: await write(tx) };
      })
    : { created: true, resource: await write(store) };

  const stored = outcome.resource;
  const headers = versionHeaders(stored, versionUrl(request.baseUrl, stored));
  return outcome.created
    ? withReturnPreference(request.headers.prefer, 201, stored, headers, `Created ${type}/${stored.id}`)
    : withReturnPreference(request.headers.prefer, 200, stored, headers, `${type}/${stored.id} already matches If-None-Exist`);
};
