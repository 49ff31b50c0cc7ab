import { FhirError } from '../fhir/outcome.js';
import type { Logger } from '../log/logger.js';

interface HttpParserError {
  type?: string;
  status?: number;
  limit?: number;
}

/**
 * Every failure, whatever threw it, as the FhirError a caller sees. Unexpected errors are logged with the
 * request id and become a 500 whose OperationOutcome reveals nothing of the server's insides.
 */
export function toFhirError(error: unknown, log: Logger): FhirError {
  if (error instanceof FhirError) return error;
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
