import type { BulkExports, ExportJob, ExportOwner } from '../../bulk/model.js';
import { FhirError } from '../../fhir/outcome.js';
import type { FhirContext, FhirRequest, RouteParams } from '../../rest/types.js';
import { ownerOf } from './access.js';

/** The jobs' engine of this server, or 501: a server composed without one does not export (deny by default). */
export function bulkExportsOf(context: FhirContext): BulkExports {
  if (!context.bulkExports) throw new FhirError(501, { code: 'not-supported', diagnostics: 'bulk data export is not enabled on this server' });
  return context.bulkExports;
}

/** The job of the route (`[job]`) if it is the caller's own, with its owner and the engine; anyone else's: 404. */
export async function ownJob(request: FhirRequest, params: RouteParams, context: FhirContext): Promise<{ owner: ExportOwner; exports: BulkExports; job: ExportJob }> {
  const owner = ownerOf(request.caller);
  const exports = bulkExportsOf(context);
  const job = await exports.job(owner, params.id!);
  if (!job) throw jobNotFound(params.id!);
  return { owner, exports, job };
}

/** A job id the engine never hands out is simply not found: no other message, so ids cannot be probed. */
export function jobNotFound(id: string): FhirError {
  return new FhirError(404, { code: 'not-found', diagnostics: `no bulk export job ${id} of yours is known here (never started, cancelled, or expired)` });
}

/** An HTTP-date (RFC 9110 §5.6.7) from an ISO instant. */
export function httpDate(instant: string): string {
  return new Date(instant).toUTCString();
}
