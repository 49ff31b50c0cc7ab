import type { Reference } from 'fhir/r4';
import { isResourceType } from '../../fhir/resource-types.js';
import { isRecord, nonEmptyString, type Converter, type FhirValue, type ReferenceValue } from './values.js';

const ID = '[A-Za-z0-9\\-.]{1,64}';
const RELATIVE = new RegExp(`^([A-Za-z]+)/(${ID})(?:/_history/(${ID}))?$`);
const ABSOLUTE_TAIL = new RegExp(`/([A-Za-z]+)/(${ID})(?:/_history/(${ID}))?$`);

interface Literal {
  targetType: string | null;
  targetId: string | null;
  targetVersion?: string;
  url: string | null;
}

/**
 * A literal reference read for its target: `Patient/1` names a local resource; an absolute URL ending in
 * `/Patient/1` names a Patient (which `where(resolve() is Patient)` needs), though index rows keep such a URL as
 * written only (see fromReference); `urn:uuid:` and other URIs keep only the URL. Anything that is not a known
 * type and id is kept as a URL too, so nothing written is unsearchable.
 */
export function parseLiteral(reference: string): Literal | undefined {
  if (reference.startsWith('#')) return undefined;
  const relative = RELATIVE.exec(reference);
  if (relative && isResourceType(relative[1])) return withVersion(relative[1], relative[2], relative[3], null);
  const tail = reference.includes('://') ? ABSOLUTE_TAIL.exec(reference) : null;
  if (tail && isResourceType(tail[1])) return withVersion(tail[1], tail[2], tail[3], reference);
  return { targetType: null, targetId: null, url: reference };
}

function withVersion(type: string, id: string, version: string | undefined, url: string | null): Literal {
  return version ? { targetType: type, targetId: id, targetVersion: version, url } : { targetType: type, targetId: id, url };
}

/** The resource type a Reference points to, for `where(resolve() is X)`: from its text, else Reference.type. */
export function referenceType(value: FhirValue): string | undefined {
  if (value.type !== 'Reference' || !isRecord(value.data)) return undefined;
  const reference = value.data as Reference;
  const literal = reference.reference ? parseLiteral(reference.reference) : undefined;
  return literal?.targetType ?? nonEmptyString(reference.type);
}

/** Reference → its literal and/or identifier; canonical and uri elements of reference parameters → url. */
export const toReferences: Converter<ReferenceValue> = (value) => {
  switch (value.type) {
    case 'Reference':
      return fromReference(value.data);
    case 'canonical':
    case 'uri':
    case 'url': {
      const url = nonEmptyString(value.data);
      return url ? [{ targetType: null, targetId: null, url }] : [];
    }
    default:
      return undefined;
  }
};

function fromReference(data: unknown): ReferenceValue[] {
  if (!isRecord(data)) return [];
  const reference = data as Reference;
  const text = nonEmptyString(reference.reference);
  // A contained reference (`#id`) has no identity outside this resource: it is indexed as written, so the
  // element is not `:missing`, but no search by type and id finds it.
  const parsed = text ? parseLiteral(text) : undefined;
  // An absolute URL is matched as written only: its tail names a resource of whatever server it points to, and
  // a search for `Patient/1` (or this server's own absolute URL for it) matches it by URL.
  const literal: Literal | undefined = text && !parsed ? { targetType: null, targetId: null, url: text } : parsed?.url ? { targetType: null, targetId: null, url: parsed.url } : parsed;
  const system = nonEmptyString(reference.identifier?.system);
  const identifierValue = nonEmptyString(reference.identifier?.value);
  if (!literal && !system && !identifierValue) return [];
  const row: ReferenceValue = literal ?? { targetType: null, targetId: null, url: null };
  if (system || identifierValue) return [{ ...row, identifierSystem: system ?? null, identifierValue: identifierValue ?? null }];
  return [row];
}
