import { FhirError } from '../fhir/outcome.js';
import type { Logger } from '../log/logger.js';
import { DatabaseUnavailable } from '../store/unavailable.js';

/** What a client is told to wait before retrying while the database is away (a restart takes seconds). */
export const RETRY_AFTER_SECONDS = 5;

interface HttpParserError {
  type?: string;
  status?: number;
  limit?: number;
}

/**
 * The database being away, for the answers that are not FHIR (the authorization server's JSON and pages): the
 * `Retry-After` header to send with a 503, or undefined when `error` is something else.
 */
export function retryLater(error: unknown): { 'Retry-After': string } | undefined {
  return error instanceof DatabaseUnavailable ? { 'Retry-After': String(RETRY_AFTER_SECONDS) } : undefined;
}

/**
 * Every failure, whatever threw it, as the FhirError a caller sees. Unexpected errors are logged with the
 * request id and become a 500 whose OperationOutcome reveals nothing of the server's insides. The database
 * being away is no fault of the request nor a bug: a 503 `transient` with `Retry-After`, not logged here (the
 * outage is logged once, when it starts and when it ends: server/app.ts).
 */
export function toFhirError(error: unknown, log: Logger): FhirError {
  if (error instanceof FhirError) return error;
  if (error instanceof DatabaseUnavailable) {
    return new FhirError(
      503,
      { code: 'transient', diagnostics: `The server's database cannot be reached at the moment; retry in ${RETRY_AFTER_SECONDS} seconds` },
      { 'Retry-After': String(RETRY_AFTER_SECONDS) },
    );
  }
  const parser = error as HttpParserError;
  if (parser?.type === 'entity.too.large') {
    return new FhirError(413, {
      code: 'too-long',
      diagnostics: `The request body is larger than this server accepts (${parser.limit} bytes)`,
    });
  }
  if (parser?.type === 'encoding.unsupported' || parser?.type === 'charset.unsupported') {
    return new FhirError(415, { code: 'not-supported', diagnostics: 'The request body encoding is not supported' });
  }
  if (parser?.type === 'request.aborted') {
    return new FhirError(400, { code: 'incomplete', diagnostics: 'The request body ended early' });
  }
  log.error({ err: error }, 'unexpected error');
  return new FhirError(500, { code: 'exception', diagnostics: 'The server failed to process the request; it has been logged' });
}
