import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Resource } from 'fhir/r4';
import { inReadingOrder } from '../rest/representation.js';
import { notModified } from './not-modified.js';

/**
 * Writes a FHIR response: status, headers, and the body as JSON (indented when `_pretty=true`), with what Express's
 * `res.send` added, on node's own response (the FHIR API is answered without Express: server/pipeline): the
 * length, no body on HEAD, and 304 for a GET whose validators the client already holds.
 */
export function sendFhir(
  res: ServerResponse,
  status: number,
  mediaType: string,
  pretty: boolean,
  body?: Resource,
  headers: Record<string, string> = {},
  request?: { method?: string; headers: IncomingHttpHeaders },
): void {
  res.statusCode = status;
  for (const name in headers) res.setHeader(name, headers[name]);
  if (body === undefined) {
    res.end();
    return;
  }
  if (request && notModified(request.method, status, request.headers, { etag: res.getHeader('etag'), lastModified: res.getHeader('last-modified') })) {
    res.statusCode = 304;
    res.end();
    return;
  }
  if (status === 204 || status === 304) {
    res.end();
    return;
  }
  const text = JSON.stringify(inReadingOrder(body), null, pretty ? 2 : undefined);
  res.setHeader('Content-Type', `${mediaType}; charset=utf-8`);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  if (request?.method === 'HEAD') res.end();
  else res.end(text);
}
