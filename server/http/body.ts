import { FhirError } from '../fhir/outcome.js';
import { JSON_PATCH } from '../patch/apply-patch.js';
import { checkRequestMediaType, mediaTypeOf } from './negotiation.js';

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
  // A JSON Patch document is JSON but not FHIR: PATCH takes it under its own media type.
  if (!(method === 'PATCH' && contentType && mediaTypeOf(contentType) === JSON_PATCH)) checkRequestMediaType(contentType);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new FhirError(400, {
      code: 'structure',
      diagnostics: `The body is not valid JSON: ${(error as Error).message}`,
    });
  }
}

/**
 * The parameters of `POST …/_search`, sent as an HTML form (R4 search: the body is
 * application/x-www-form-urlencoded); an empty body is a search without parameters.
 */
export function parseSearchForm(contentType: string | undefined, raw: unknown): Record<string, string[]> {
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : '';
  const params: Record<string, string[]> = {};
  if (!text.trim()) return params;
  if (!contentType || contentType.split(';')[0].trim().toLowerCase() !== 'application/x-www-form-urlencoded') {
    throw new FhirError(415, {
      code: 'not-supported',
      diagnostics: `POST _search takes its parameters as application/x-www-form-urlencoded (got ${contentType ?? 'no Content-Type'})`,
    });
  }
  for (const [name, value] of new URLSearchParams(text)) (params[name] ??= []).push(value);
  return params;
}
