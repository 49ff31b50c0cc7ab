/**
 * Builds a search URL path with every value percent-encoded (so `+` in a time zone, `|`, `,` inside values and
 * non-ASCII letters arrive as written). Parameters are pairs, so a name may repeat (AND).
 */
export function q(type: string, ...params: [string, string][]): string {
  const query = params.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&');
  return `/fhir${type ? `/${type}` : ''}${query ? `?${query}` : ''}`;
}
