import { isValidId } from './resource-types.js';

/** `Type/id`, a relative reference to a resource on this server, as its parts; undefined for any other form. */
export function relativeReference(reference: string | undefined): { type: string; id: string } | undefined {
  const slash = reference?.indexOf('/') ?? -1;
  if (!reference || slash < 1) return undefined;
  const type = reference.slice(0, slash);
  const id = reference.slice(slash + 1);
  return /^[A-Za-z]+$/.test(type) && isValidId(id) ? { type, id } : undefined;
}

/** The id of a relative reference to `type` (`Organization/12` → `12`); undefined for anything else. */
export function idOfReference(reference: string | undefined, type: string): string | undefined {
  const parsed = relativeReference(reference);
  return parsed?.type === type ? parsed.id : undefined;
}
