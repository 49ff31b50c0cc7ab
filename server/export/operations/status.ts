import { manifestOf } from '../../bulk/manifest.js';
import { FhirError, informational, type Issue } from '../../fhir/outcome.js';
import type { FhirResponse, Interaction } from '../../rest/types.js';
import { requireTypes } from './access.js';
import { httpDate, jobNotFound, ownJob } from './engine.js';

/** `Retry-After` while a job runs, when the server's options do not say. */
const DEFAULT_POLL_SECONDS = 5;

/**
 * `GET [base]/$export-status/[job]`: only the job's owner (anyone else: 404, as for a job that does not exist), and
 * only with a token that still covers every type of the job (403). Polled too soon: 429 with `Retry-After`. Then
 * 202 with `X-Progress` and `Retry-After` while it runs; 200 with the manifest (`application/json`) and `Expires`
 * once complete; 500 with the job's OperationOutcome if it failed.
 */
export const exportStatus: Interaction = async (request, params, context): Promise<FhirResponse> => {
  const { owner, exports, job } = await ownJob(request, params, context);
  const id = job.id;
  requireTypes(request.caller, job.spec.types, context.registry);
  const wait = await exports.poll(owner, id);
  if (wait > 0) {
    throw new FhirError(429, { code: 'throttled', diagnostics: `polled too often: wait ${Math.ceil(wait)} s before asking again` }, { 'Retry-After': String(Math.ceil(wait)) });
  }
  const seen = { step: 'status' as const, job: id, types: job.spec.types };
  switch (job.state) {
    case 'accepted':
    case 'running':
      context.auditing?.exported?.(seen);
      return {
        status: 202,
        headers: { 'X-Progress': `${Math.round(job.progress)}% complete`, 'Retry-After': String(Math.max(1, context.options.bulkExportPollSeconds ?? DEFAULT_POLL_SECONDS)) },
      };
    case 'complete':
      context.auditing?.exported?.({ ...seen, complete: true, ...(job.patients ? { patients: job.patients } : {}) });
      return { status: 200, json: manifestOf(job, request.baseUrl), headers: job.expires ? { Expires: httpDate(job.expires) } : {} };
    case 'failed': {
      context.auditing?.exported?.(seen);
      const failures: Issue[] = job.issues.filter((issue) => issue.severity === 'error').map(({ code, diagnostics }) => ({ code: code as Issue['code'], diagnostics }));
      throw new FhirError(500, failures.length ? failures : { code: 'exception', diagnostics: 'the export failed' });
    }
    default:
      throw jobNotFound(id);
  }
};

/** `DELETE [base]/$export-status/[job]`: the owner cancels; the job and its files are removed (202), then it is a 404. */
export const exportCancel: Interaction = async (request, params, context) => {
  const { owner, exports, job } = await ownJob(request, params, context);
  const id = job.id;
  requireTypes(request.caller, job.spec.types, context.registry);
  if (!(await exports.cancel(owner, id))) throw jobNotFound(id);
  context.auditing?.exported?.({ step: 'cancel', job: id, types: job.spec.types });
  return { status: 202, body: informational(`bulk export ${id} is cancelled: its files are removed`) };
};
