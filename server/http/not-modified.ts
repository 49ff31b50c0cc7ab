import type { IncomingHttpHeaders, OutgoingHttpHeader } from 'node:http';

/**
 * Whether a GET or HEAD answered `status` is "fresh" for the client, which then gets a 304 without the body: the
 * rule Express's `res.send` applied to every FHIR response (its `req.fresh`, from the `fresh` package), kept as it
 * was when the FHIR API stopped going through Express. The read interaction decides its own conditional reads
 * (server/rest/interactions/read.ts); this is the transport's rule beside it.
 */
export function notModified(
  method: string | undefined,
  status: number,
  request: IncomingHttpHeaders,
  response: { etag?: OutgoingHttpHeader; lastModified?: OutgoingHttpHeader },
): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (!((status >= 200 && status < 300) || status === 304)) return false;
  const modifiedSince = request['if-modified-since'];
  const noneMatch = request['if-none-match'];
  if (!modifiedSince && !noneMatch) return false;
  // An end-to-end reload is always answered in full.
  const cacheControl = request['cache-control'];
  if (cacheControl && /(?:^|,)\s*?no-cache\s*?(?:,|$)/.test(cacheControl)) return false;
  if (noneMatch) {
    if (noneMatch === '*') return true;
    const etag = response.etag === undefined ? undefined : String(response.etag);
    if (!etag) return false;
    return noneMatch.split(',').some((token) => {
      const match = token.trim();
      return match === etag || match === `W/${etag}` || `W/${match}` === etag;
    });
  }
  const lastModified = response.lastModified === undefined ? undefined : String(response.lastModified);
  return Boolean(lastModified) && Date.parse(lastModified!) <= Date.parse(modifiedSince!);
}
