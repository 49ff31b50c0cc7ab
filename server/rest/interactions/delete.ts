import { FhirError, informational } from '../../fhir/outcome.js';
import { etag, parseIfMatch } from '../headers.js';
import type { Interaction } from '../types.js';
import { rulesContext, writeUnderRules } from '../write-rules.js';

/**
 * `DELETE [base]/[type]/[id]`: leaves a tombstone version, so later reads answer 410 and history keeps the
 * record. Deleting what is already deleted, or was never there, succeeds too (delete is idempotent).
 */
export const deleteResource: Interaction = async (request, { type, id }, context) => {
  const ifMatch = parseIfMatch(request.headers['if-match']);
  const result = await writeUnderRules(
    { interaction: 'delete', resourceType: type!, id, caller: request.caller, ifMatch },
    rulesContext(context, request.baseUrl),
    (tx) => tx.delete(type!, id!, { ifMatch }),
    (deleted) => (deleted.kind === 'deleted' ? {} : undefined),
  );
  switch (result.kind) {
    case 'version-conflict':
      throw new FhirError(412, {
        code: 'conflict',
        diagnostics: result.currentVersionId
          ? `${type}/${id} is at version ${result.currentVersionId}, not ${ifMatch}`
          : `${type}/${id} does not exist, so no version can match If-Match`,
      });
    case 'deleted':
      return { status: 200, headers: { ETag: etag(result.versionId) }, body: informational(`Deleted ${type}/${id}`) };
    case 'already-deleted':
      return { status: 200, body: informational(`${type}/${id} was already deleted`) };
    case 'missing':
      return { status: 200, body: informational(`${type}/${id} does not exist; nothing to delete`) };
  }
};
