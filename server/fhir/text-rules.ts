import { FhirError } from './outcome.js';

/**
 * What FHIR text may hold, in one place for bodies, query strings and headers. R4 `string`: no character below
 * U+0020 but tab, CR and LF; and text is Unicode, so a UTF-16 surrogate must be one half of a pair. PostgreSQL's
 * jsonb refuses both `\u0000` and lone surrogates, so letting them through would also be a 500 at storage.
 */
// In a `u` regex a paired surrogate is one code point, so the surrogate range only matches lone halves.
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]|[\uD800-\uDFFF]/u;

/** Why `text` is not FHIR text, or undefined when it is; names the character but never repeats the text. */
export function textProblem(text: string): string | undefined {
  const found = FORBIDDEN.exec(text);
  if (!found) return undefined;
  const code = found[0].charCodeAt(0);
  const name = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return code >= 0xd800 ? `holds an unpaired UTF-16 surrogate (${name}), which is not Unicode text` : `holds the control character ${name}, which FHIR strings do not allow (only tab, CR and LF)`;
}

/**
 * Names that are never FHIR element or parameter names and that, as a key of a plain object, reach the
 * prototype chain instead of a member: refused rather than carried through code that indexes objects by name.
 */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes as UTF-8 text, or a 400: a lenient decoder would turn bad bytes into U+FFFD, a changed value. */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new FhirError(400, { code: 'invalid', diagnostics: `${what} is not valid UTF-8` });
  }
}
