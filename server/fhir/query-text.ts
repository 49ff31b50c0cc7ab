import { FhirError } from './outcome.js';
import { decodeUtf8, PROTOTYPE_KEYS, textProblem } from './text-rules.js';

/**
 * Parameters of a query string or an HTML form (`a=1&b=x+y&a=2`), in order, repeated ones kept. Unlike
 * URLSearchParams, percent-encoded bytes that are not UTF-8 (`%ED%A0%80`, `%FF`) are a 400 rather than U+FFFD, and a
 * name or value that is not FHIR text (`%00`) is a 400 naming the parameter: a search must not quietly look for
 * something other than what was asked, nor carry into SQL what the database refuses.
 */
export function parseQueryText(text: string, what = 'The query'): Record<string, string[]> {
  const params: Record<string, string[]> = {};
  for (const part of text.split('&')) {
    if (!part) continue;
    const separator = part.indexOf('=');
    const name = percentDecoded(separator < 0 ? part : part.slice(0, separator), `${what}: a parameter name`);
    const nameProblem = textProblem(name);
    if (nameProblem) throw new FhirError(400, { code: 'invalid', diagnostics: `${what}: a parameter name ${nameProblem}` });
    if (PROTOTYPE_KEYS.has(name)) throw new FhirError(400, { code: 'invalid', diagnostics: `${what}: ${name} is not a parameter name`, expression: [name] });
    const value = separator < 0 ? '' : percentDecoded(part.slice(separator + 1), `${what}: the value of ${name}`);
    const valueProblem = textProblem(value);
    if (valueProblem) throw new FhirError(400, { code: 'value', diagnostics: `${what}: the value of ${name} ${valueProblem}`, expression: [name] });
    if (Object.hasOwn(params, name)) params[name].push(value);
    else params[name] = [value];
  }
  return params;
}

/** `+` is a space in a form; `%XX` is a byte; the bytes are UTF-8. A `%` not followed by two hex digits stays itself. */
function percentDecoded(encoded: string, what: string): string {
  const text = encoded.replace(/\+/g, ' ');
  if (!text.includes('%')) return text;
  // Text that is itself not Unicode is reported by the caller's check, not smoothed over by the encoder here.
  if (textProblem(text)) return text;
  const input = Buffer.from(text, 'utf8');
  const bytes = Buffer.alloc(input.length);
  let length = 0;
  for (let i = 0; i < input.length; i++) {
    if (input[i] === 0x25 && i + 2 < input.length && isHex(input[i + 1]) && isHex(input[i + 2])) {
      bytes[length++] = parseInt(String.fromCharCode(input[i + 1], input[i + 2]), 16);
      i += 2;
    } else {
      bytes[length++] = input[i];
    }
  }
  return decodeUtf8(bytes.subarray(0, length), what);
}

function isHex(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}
