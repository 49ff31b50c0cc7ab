import type { CodeableConcept, Coding, ContactPoint, Identifier } from 'fhir/r4';
import { normalizeText } from './normalize.js';
import { isRecord, nonEmptyString, type Converter, type TokenValue } from './values.js';

/** Primitives a token matches by their value alone (R4 search, token: code, boolean, id, uri, string). */
const CODE_PRIMITIVES = new Set(['code', 'id', 'string', 'uri', 'url', 'canonical', 'oid', 'uuid', 'markdown']);

export const toTokens: Converter<TokenValue> = (value) => {
  const { type, data } = value;
  if (type === 'boolean') return typeof data === 'boolean' ? [{ system: null, code: String(data) }] : [];
  if (CODE_PRIMITIVES.has(type)) return typeof data === 'string' && data.length > 0 ? [{ system: null, code: data }] : [];
  if (!isRecord(data)) return undefined;
  switch (type) {
    case 'Coding':
      return fromCoding(data as Coding);
    case 'CodeableConcept':
      return fromCodeableConcept(data as CodeableConcept);
    case 'Identifier':
      return fromIdentifier(data as Identifier);
    case 'ContactPoint':
      return fromContactPoint(data as ContactPoint);
    default:
      return undefined;
  }
};

function fromCoding(coding: Coding): TokenValue[] {
  const system = nonEmptyString(coding.system) ?? null;
  const code = nonEmptyString(coding.code) ?? null;
  const text = textOf(coding.display);
  if (system === null && code === null && text === undefined) return [];
  return [text === undefined ? { system, code } : { system, code, text }];
}

/**
 * Each coding is a token; the concept's own text, which belongs to no coding, is one more value with neither
 * system nor code, so `:text` finds it while code searches never match it.
 */
function fromCodeableConcept(concept: CodeableConcept): TokenValue[] {
  const values = (concept.coding ?? []).flatMap(fromCoding);
  const text = textOf(concept.text);
  if (text !== undefined) values.push({ system: null, code: null, text });
  return values;
}

/**
 * Identifier.system and value, with Identifier.type's text for `:text`. `:of-type` matches type coding and value
 * together, so an identifier with several type codings is one value per coding.
 */
function fromIdentifier(identifier: Identifier): TokenValue[] {
  const system = nonEmptyString(identifier.system) ?? null;
  const code = nonEmptyString(identifier.value) ?? null;
  const typeText = textOf(identifier.type?.text);
  const base: TokenValue = typeText === undefined ? { system, code } : { system, code, text: typeText };
  const ofTypes = (identifier.type?.coding ?? []).filter((c) => nonEmptyString(c.code) !== undefined);
  if (ofTypes.length === 0) return system === null && code === null && typeText === undefined ? [] : [base];
  return ofTypes.map((coding) => {
    const text = typeText ?? textOf(coding.display);
    const ofType = `${coding.system ?? ''}|${coding.code}`;
    return text === undefined ? { system, code, ofType } : { system, code, text, ofType };
  });
}

/**
 * R4 search's token table gives ContactPoint no system column: the value is the code. ContactPoint.system (phone,
 * email…) is not a URI namespace, and the `phone`/`email` parameters already select by it in their expressions.
 */
function fromContactPoint(contact: ContactPoint): TokenValue[] {
  const code = nonEmptyString(contact.value);
  return code ? [{ system: null, code }] : [];
}

function textOf(text: string | undefined): string | undefined {
  if (typeof text !== 'string') return undefined;
  const normalized = normalizeText(text);
  return normalized.length > 0 ? normalized : undefined;
}
