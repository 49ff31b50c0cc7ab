import type { Response } from 'express';
import type { Resource } from 'fhir/r4';
import { inReadingOrder } from '../rest/representation.js';

/** Writes a FHIR response: status, headers, and the body as JSON (indented when `_pretty=true`). */
export function sendFhir(
  res: Response,
  status: number,
  mediaType: string,
  pretty: boolean,
  body?: Resource,
  headers: Record<string, string> = {},
): void {
  res.status(status);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (body === undefined) {
    res.end();
    return;
  }
  res.setHeader('Content-Type', `${mediaType}; charset=utf-8`);
  res.send(JSON.stringify(inReadingOrder(body), null, pretty ? 2 : undefined));
}
