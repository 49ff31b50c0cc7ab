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

/** A JSON body that is no FHIR resource (the bulk export manifest): `application/json`, with its length. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, method?: string): void {
  res.statusCode = status;
  for (const name in headers) res.setHeader(name, headers[name]);
  const text = JSON.stringify(body);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  if (method === 'HEAD') res.end();
  else res.end(text);
}

/**
 * A body streamed in pieces (a bulk export file): no Content-Length (chunked). Each item of `lines` is one line or
 * several (a stored part of the file, each line ending in a newline; a newline is added to an item without one),
 * written in one `write` as the client takes it (`write` returning false waits for `drain`), so memory holds one
 * part at a time whatever the file's size, and a file of a million lines is a few hundred writes, not a million.
 * A client that goes away stops the reading (the iterator is closed). A failure once the status is sent cannot
 * become an OperationOutcome: the connection is cut, so the client sees a broken transfer, never a short file
 * that looks whole; a failure before anything was sent is thrown to the caller, who answers it. Resolves once the
 * response has ended or was cut.
 */
export async function sendStream(
  res: ServerResponse,
  status: number,
  stream: { contentType: string; lines: AsyncIterable<string> },
  headers: Record<string, string> = {},
  method?: string,
): Promise<void> {
  res.statusCode = status;
  for (const name in headers) res.setHeader(name, headers[name]);
  res.setHeader('Content-Type', stream.contentType);
  const iterator = stream.lines[Symbol.asyncIterator]();
  if (method === 'HEAD') {
    await iterator.return?.();
    res.end();
    return;
  }
  let gone = false;
  const onClose = () => (gone = true);
  res.once('close', onClose);
  try {
    for (;;) {
      if (gone || res.destroyed) {
        await iterator.return?.();
        return;
      }
      const next = await iterator.next();
      if (next.done) break;
      const line = next.value.endsWith('\n') ? next.value : `${next.value}\n`;
      if (!res.write(line)) await drained(res);
    }
    res.end();
  } catch (error) {
    // Nothing sent yet: the caller can still answer with an OperationOutcome.
    if (!res.headersSent) throw error;
    res.destroy(error instanceof Error ? error : new Error(String(error)));
    throw error;
  } finally {
    res.off('close', onClose);
  }
}

/** The response can take more, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
