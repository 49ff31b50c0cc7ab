import { FhirError, notFound } from '../../fhir/outcome.js';
import { applyPatch } from '../../patch/apply-patch.js';
import { validateResource } from '../../validation/validate-resource.js';
import { etag, parseIfMatch, versionHeaders } from '../headers.js';
import { withReturnPreference } from '../prefer.js';
import type { Validation } from '../../validation/validate-resource.js';
import type { FhirRequest, FhirResponse, Interaction } from '../types.js';
import { rulesContext, writeUnderRules, type WriteRuleContext } from '../write-rules.js';

/** A PUT may slip in between our read and our write; without If-Match the patch is then simply reapplied. */
const MAX_ATTEMPTS = 5;

/**
 * `PATCH [base]/[type]/[id]` with a JSON Patch or a FHIRPath Patch. The patched resource is validated as an
 * update is, and written only if the version it was computed from is still current, so no concurrent write is
 * lost. With `If-Match` the client names that version itself (412 when it is no longer current).
 */
export const patch: Interaction = async (request, { type, id }, context) => {
  const { store } = context;
  const ifMatch = parseIfMatch(request.headers['if-match']);
  return store.transaction(async (tx) => {
    // Patches of one resource take turns; any other writer that slips in is caught by the version check below.
    await tx.lock(`${type}/${id}`);
    return patchCurrentVersion(rulesContext(context, request.baseUrl, tx), request, type!, id!, ifMatch, context);
  });
};

async function patchCurrentVersion(rules: WriteRuleContext, request: FhirRequest, type: string, id: string, ifMatch: string | undefined, validation: Validation): Promise<FhirResponse> {
  const { store } = rules;
  for (let attempt = 1; ; attempt++) {
    const current = await store.read(type, id);
    if (current.kind === 'missing') throw notFound(`${type}/${id} is not known`);
    if (current.kind === 'deleted') {
      throw new FhirError(410, { code: 'deleted', diagnostics: `${type}/${id} has been deleted` }, { ETag: etag(current.versionId) });
    }
    const versionId = current.resource.meta!.versionId!;
    if (ifMatch !== undefined && ifMatch !== versionId) throw versionConflict(`${type}/${id}`, versionId, ifMatch);

    const patched = applyPatch(current.resource, request.body, request.headers['content-type']);
    const resource = validateResource(validation, patched, type);
    const result = await writeUnderRules(
      { interaction: 'patch', resourceType: type, id, resource, current: current.resource, caller: request.caller },
      rules,
      (tx, ruled) => tx.update({ ...ruled!, id }, { ifMatch: versionId, allowCreate: false, method: 'PATCH' }),
      (written) => (written.kind === 'updated' ? { resource: written.resource } : undefined),
    );
    if (result.kind === 'version-conflict' || result.kind === 'create-not-allowed') {
      if (ifMatch === undefined && attempt < MAX_ATTEMPTS) continue;
      throw versionConflict(`${type}/${id}`, result.kind === 'version-conflict' ? result.currentVersionId : undefined, ifMatch ?? versionId);
    }
    const stored = result.resource;
    return withReturnPreference(request.headers.prefer, 200, stored, versionHeaders(stored), `Patched ${type}/${id} (version ${stored.meta?.versionId})`);
  }
}

function versionConflict(what: string, currentVersionId: string | undefined, expected: string): FhirError {
  return new FhirError(412, {
    code: 'conflict',
    diagnostics: currentVersionId
      ? `${what} is at version ${currentVersionId}, not ${expected}: read it again and reapply the patch`
      : `${what} changed while the patch was applied`,
  });
}
