/**
 * The form string searches compare (R4 search: string matching is case- and accent-insensitive): lower case,
 * combining marks removed after canonical decomposition (é → e), runs of whitespace as one space, trimmed.
 */
export function normalizeText(text: string): string {
  return text.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}
