import type { IncomingHttpHeaders } from 'node:http';
import { FhirError } from '../fhir/outcome.js';
import { decodeUtf8, PROTOTYPE_KEYS, textProblem } from '../fhir/text-rules.js';

/** The headers whose values the FHIR layer reads as text (server/rest: ETags, conditions, preferences, dates). */
const PARSED = ['if-match', 'if-none-match', 'if-none-exist', 'if-modified-since', 'prefer'];

/**
 * Request headers with lower-cased names, repeated ones joined. Node reads header bytes as Latin-1; the values the
 * FHIR layer parses are read again as the UTF-8 a client sends, strictly, and must be FHIR text (an If-None-Exist
 * names search values): otherwise a 400 naming the header, rather than a changed value.
 */
export function requestHeaders(raw: IncomingHttpHeaders): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (PROTOTYPE_KEYS.has(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  for (const name of PARSED) {
    const value = headers[name];
    if (value === undefined) continue;
    const text = decodeUtf8(Buffer.from(value, 'latin1'), `The ${name} header`);
    const problem = textProblem(text);
    if (problem) throw new FhirError(400, { code: 'value', diagnostics: `The ${name} header ${problem}` });
    headers[name] = text;
  }
  return headers;
}
