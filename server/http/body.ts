import { FhirError } from '../fhir/outcome.js';
import { parseJsonText } from '../fhir/json-text.js';
import { parseQueryText } from '../fhir/query-text.js';
import { decodeUtf8 } from '../fhir/text-rules.js';
import { JSON_PATCH } from '../patch/apply-patch.js';
import { checkRequestMediaType, mediaTypeOf } from './negotiation.js';

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The parsed JSON body of a write, or undefined for methods that take none. The raw bytes were read (within
 * the body limit) by the transport; the checks here give each failure its own status and message. The text is
 * checked before anything recursive sees it (server/fhir/json-text.ts): nesting within `maxDepth`, numbers a
 * double keeps as written, FHIR text in every string.
 */
export function parseBody(method: string, contentType: string | undefined, raw: unknown, maxDepth: number): unknown {
  if (!METHODS_WITH_BODY.has(method)) return undefined;
  const text = Buffer.isBuffer(raw) ? decodeUtf8(raw, 'The body') : '';
  if (!text.trim()) {
    throw new FhirError(400, { code: 'required', diagnostics: `${method} needs a FHIR resource in the body` });
  }
  // A JSON Patch document is JSON but not FHIR: PATCH takes it under its own media type.
  const jsonPatch = method === 'PATCH' && contentType !== undefined && mediaTypeOf(contentType) === JSON_PATCH;
  if (!jsonPatch) checkRequestMediaType(contentType);
  const body = parseJsonText(text, maxDepth);
  // Every FHIR body is a resource; interactions and operations may then read its members without a second guess.
  if (!jsonPatch && (body === null || typeof body !== 'object' || Array.isArray(body))) {
    throw new FhirError(400, { code: 'structure', diagnostics: 'The body must be a JSON object holding a FHIR resource' });
  }
  return body;
}

/**
 * The parameters of `POST …/_search`, sent as an HTML form (R4 search: the body is
 * application/x-www-form-urlencoded); an empty body is a search without parameters.
 */
export function parseSearchForm(contentType: string | undefined, raw: unknown): Record<string, string[]> {
  const text = Buffer.isBuffer(raw) ? decodeUtf8(raw, 'The search form') : '';
  if (!text.trim()) return {};
  if (!contentType || contentType.split(';')[0].trim().toLowerCase() !== 'application/x-www-form-urlencoded') {
    throw new FhirError(415, {
      code: 'not-supported',
      diagnostics: `POST _search takes its parameters as application/x-www-form-urlencoded (got ${contentType ?? 'no Content-Type'})`,
    });
  }
  return parseQueryText(text, 'The search form');
}
