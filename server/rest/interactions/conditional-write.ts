import { FhirError, informational, notFound } from '../../fhir/outcome.js';
import { validateResource } from '../../validation/validate-resource.js';
import { conditionalTarget, criteriaOf, lockKey, matching } from '../conditional.js';
import { versionHeaders, versionUrl } from '../headers.js';
import { withReturnPreference } from '../prefer.js';
import type { Interaction } from '../types.js';
import { rulesContext, writeUnderRules } from '../write-rules.js';
import { patch } from './patch.js';
import { update } from './update.js';

/** Conditional deletes with `CONDITIONAL_DELETE_MULTIPLE=true` remove at most this many resources per request. */
const MAX_MULTIPLE_DELETE = 1000;

/**
 * `PUT [base]/[type]?criteria`: one match → that resource is updated; none → created (with the body's id when
 * it has one and update-as-create is allowed, else a server id); several → 412. Serialized per criteria.
 */
export const conditionalUpdate: Interaction = async (request, { type }, context) => {
  const resource = validateResource(context, request.body, type!);
  const criteria = criteriaOf(request.query);
  return context.store.transaction(async (tx) => {
    await tx.lock(lockKey(type!, criteria));
    const id = await conditionalTarget(tx, context.registry, type!, criteria, resource.id, request.baseUrl);
    if (id !== undefined) {
      return update({ ...request, path: `${type}/${id}`, body: { ...resource, id } }, { type, id }, { ...context, store: tx });
    }
    const created = await writeUnderRules(
      { interaction: 'create', resourceType: type!, resource, caller: request.caller },
      rulesContext(context, request.baseUrl, tx),
      (rulesStore, ruled) => rulesStore.create(ruled!),
      (stored) => ({ resource: stored }),
    );
    const headers = versionHeaders(created, versionUrl(request.baseUrl, created));
    return withReturnPreference(request.headers.prefer, 201, created, headers, `Created ${type}/${created.id}`);
  });
};

/**
 * `DELETE [base]/[type]?criteria`: deletes the one match; several are a 412 unless the server allows multiple
 * conditional deletes (then all of them, up to a bound); none is a success with nothing to do.
 */
export const conditionalDelete: Interaction = async (request, { type }, context) => {
  const { store, registry, options } = context;
  const criteria = criteriaOf(request.query);
  return store.transaction(async (tx) => {
    await tx.lock(lockKey(type!, criteria));
    const limit = options.allowMultipleDelete ? MAX_MULTIPLE_DELETE + 1 : 2;
    const found = await matching(tx, registry, type!, criteria, request.baseUrl, limit);
    if (found.length > 1 && !options.allowMultipleDelete) {
      throw new FhirError(412, { code: 'multiple-matches', diagnostics: `The criteria match several ${type} resources, and this server deletes one at a time` });
    }
    if (found.length > MAX_MULTIPLE_DELETE) {
      throw new FhirError(412, { code: 'too-costly', diagnostics: `The criteria match more than ${MAX_MULTIPLE_DELETE} ${type} resources` });
    }
    for (const { id } of found) {
      await writeUnderRules(
        { interaction: 'delete', resourceType: type!, id, caller: request.caller },
        rulesContext(context, request.baseUrl, tx),
        (rulesStore) => rulesStore.delete(type!, id!),
        (deleted) => (deleted.kind === 'deleted' ? {} : undefined),
      );
    }
    return { status: 200, body: informational(found.length ? `Deleted ${found.length} ${type}` : `No ${type} matches: nothing deleted`) };
  });
};

/** `PATCH [base]/[type]?criteria`: patches the one match; none is a 404 and several a 412. Serialized per criteria. */
export const conditionalPatch: Interaction = async (request, { type }, context) => {
  const criteria = criteriaOf(request.query);
  return context.store.transaction(async (tx) => {
    await tx.lock(lockKey(type!, criteria));
    const found = await matching(tx, context.registry, type!, criteria, request.baseUrl, 2);
    if (!found.length) throw notFound(`No ${type} matches the criteria: nothing to patch`);
    if (found.length > 1) throw new FhirError(412, { code: 'multiple-matches', diagnostics: `The criteria match several ${type} resources; a conditional patch needs exactly one` });
    const id = found[0].id!;
    return patch({ ...request, path: `${type}/${id}` }, { type, id }, { ...context, store: tx });
  });
};
