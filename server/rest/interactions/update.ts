import { FhirError } from '../../fhir/outcome.js';
import { validateResource } from '../../validation/validate-resource.js';
import { parseIfMatch, versionHeaders, versionUrl } from '../headers.js';
import { withReturnPreference } from '../prefer.js';
import type { Interaction } from '../types.js';
import { rulesContext, writeUnderRules } from '../write-rules.js';

/**
 * `PUT [base]/[type]/[id]`: a new version, or the first one when the id is new and update-as-create is allowed.
 * With `If-Match`, the write happens only if the named version is still current (412 otherwise).
 */
export const update: Interaction = async (request, { type, id }, context) => {
  const { options } = context;
  const resource = validateResource(context, request.body, type!);
  if (resource.id === undefined) {
    throw new FhirError(400, { code: 'required', diagnostics: `The resource must carry its id (${id})`, expression: [`${type}.id`] });
  }
  if (resource.id !== id) {
    throw new FhirError(400, {
      code: 'invalid',
      diagnostics: `The resource's id (${resource.id}) does not match the id in the URL (${id})`,
      expression: [`${type}.id`],
    });
  }
  const ifMatch = parseIfMatch(request.headers['if-match']);
  const result = await writeUnderRules(
    { interaction: 'update', resourceType: type!, id, resource, caller: request.caller, ifMatch },
    rulesContext(context, request.baseUrl),
    (tx, ruled) => tx.update({ ...ruled!, id: id! }, { ifMatch, allowCreate: options.allowUpdateCreate }),
    (written) => (written.kind === 'created' || written.kind === 'updated' ? { resource: written.resource } : undefined),
  );

  switch (result.kind) {
    case 'create-not-allowed':
      throw new FhirError(405, {
        code: 'not-supported',
        diagnostics: `${type}/${id} does not exist and this server does not allow clients to choose ids: use POST`,
      });
    case 'version-conflict':
      throw new FhirError(412, {
        code: 'conflict',
        diagnostics: result.currentVersionId
          ? `${type}/${id} is at version ${result.currentVersionId}, not ${ifMatch}: read it again and reapply the change`
          : `${type}/${id} does not exist, so no version can match If-Match`,
      });
    case 'created':
    case 'updated': {
      const stored = result.resource;
      const status = result.kind === 'created' ? 201 : 200;
      const headers = versionHeaders(stored, status === 201 ? versionUrl(request.baseUrl, stored) : undefined);
      const message = `${result.kind === 'created' ? 'Created' : 'Updated'} ${type}/${id} (version ${stored.meta?.versionId})`;
      return withReturnPreference(request.headers.prefer, status, stored, headers, message);
    }
  }
};
