import { FhirError } from '../fhir/outcome.js';
import { checkRequestMediaType } from './negotiation.js';

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The parsed JSON body of a write, or undefined for methods that take none. The raw bytes were read (within
 * the body limit) by the transport; the checks here give each failure its own status and message.
 */
export function parseBody(method: string, contentType: string | undefined, raw: unknown): unknown {
  if (!METHODS_WITH_BODY.has(method)) return undefined;
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : '';
  if (!text.trim()) {
    throw new FhirError(400, { code: 'required', diagnostics: `${method} needs a FHIR resource in the body` });
  }
  checkRequestMediaType(contentType);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new FhirError(400, {
      code: 'structure',
      diagnostics: `The body is not valid JSON: ${(error as Error).message}`,
    });
  }
}
