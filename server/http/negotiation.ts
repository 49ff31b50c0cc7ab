import { FhirError } from '../fhir/outcome.js';

export const FHIR_JSON = 'application/fhir+json';

/** Media types that carry FHIR JSON, the only format this server reads and writes. */
const JSON_TYPES = new Set([FHIR_JSON, 'application/json', 'application/json+fhir']);
const FORMAT_ALIASES = new Set(['json', ...JSON_TYPES]);
/** What a bulk export file may be asked for as. */
const NDJSON_TYPES = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson']);

/**
 * The media type to answer with, from `_format` (which wins, for clients that cannot set headers) or Accept.
 * A client that asked for plain `application/json` gets it labelled so; everyone else gets `application/fhir+json`.
 * Anything that rules JSON out is a 406, except NDJSON where the answer is NDJSON (`ndjson`: a bulk export file,
 * whose failures are then answered in FHIR JSON).
 */
export function responseMediaType(format: string | undefined, accept: string | undefined, ndjson = false): string {
  if (format !== undefined) {
    const wanted = mediaTypeOf(format);
    if (!FORMAT_ALIASES.has(wanted)) throw notAcceptable(`_format=${format}`);
    return wanted === 'application/json' ? 'application/json' : FHIR_JSON;
  }
  if (!accept?.trim()) return FHIR_JSON;
  const ranges = accept
    .split(',')
    .map((part) => {
      const [type, ...params] = part.split(';');
      const q = params.map((p) => /^\s*q\s*=\s*([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { type: type.trim().toLowerCase(), q: q === undefined ? 1 : Number(q) };
    })
    .filter((range) => range.q > 0);
  if (ranges.some((r) => r.type === FHIR_JSON || r.type === 'application/json+fhir')) return FHIR_JSON;
  if (ranges.some((r) => r.type === 'application/json')) return 'application/json';
  if (ranges.some((r) => r.type === '*/*' || r.type === 'application/*')) return FHIR_JSON;
  if (ndjson && ranges.some((r) => NDJSON_TYPES.has(r.type))) return FHIR_JSON;
  throw notAcceptable(`Accept: ${accept}`);
}

/** A request body must be FHIR JSON; anything else is a 415. */
export function checkRequestMediaType(contentType: string | undefined): void {
  if (!contentType) {
    throw new FhirError(415, { code: 'not-supported', diagnostics: `Content-Type is required: send ${FHIR_JSON}` });
  }
  if (!JSON_TYPES.has(mediaTypeOf(contentType))) {
    throw new FhirError(415, {
      code: 'not-supported',
      diagnostics: `Content-Type ${contentType} is not supported: send ${FHIR_JSON}`,
    });
  }
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1];
  if (charset && !/^utf-?8$/i.test(charset)) {
    throw new FhirError(415, { code: 'not-supported', diagnostics: `charset ${charset} is not supported: FHIR JSON is UTF-8` });
  }
}

export function mediaTypeOf(value: string): string {
  return value.split(';')[0].trim().toLowerCase();
}

function notAcceptable(asked: string): FhirError {
  return new FhirError(406, {
    code: 'not-supported',
    diagnostics: `${asked} cannot be served: this server speaks FHIR JSON only (${FHIR_JSON} or application/json)`,
  });
}
