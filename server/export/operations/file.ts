import { FhirError } from '../../fhir/outcome.js';
import type { Interaction } from '../../rest/types.js';
import { requireTypes } from './access.js';
import { ownJob } from './engine.js';

export const NDJSON = 'application/fhir+ndjson';

/**
 * `GET [base]/$export-file/[job]/[number]`: a complete file of the owner's job, streamed as `application/fhir+ndjson`
 * (server/http/send.ts writes it as the client takes it, memory bounded). Anyone but the owner: 404. The token must
 * cover the file's type (a deleted-resources file: every type of the job), or it is a 403.
 */
export const exportFile: Interaction = async (request, params, context) => {
  const { owner, exports, job } = await ownJob(request, params, context);
  const id = job.id;
  const number = Number(params.file);
  const found = await exports.file(owner, id, number);
  if (!found) throw new FhirError(404, { code: 'not-found', diagnostics: `bulk export ${id} has no file ${params.file}` });
  try {
    if (found.file.kind === 'output') requireTypes(request.caller, [found.file.type], context.registry);
    else if (found.file.kind === 'deleted') requireTypes(request.caller, job.spec.types, context.registry);
  } catch (error) {
    // Nothing is read: the parts are never asked for.
    await found.lines[Symbol.asyncIterator]().return?.();
    throw error;
  }
  const { file } = found;
  context.auditing?.exported?.({ step: 'download', job: id, types: job.spec.types, file: { number: file.number, type: file.type, count: file.count }, ...(job.patients ? { patients: job.patients } : {}) });
  return { status: 200, stream: { contentType: NDJSON, lines: found.lines } };
};
