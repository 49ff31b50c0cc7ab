import cors from 'cors';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * CORS for browser SMART apps on the FHIR API and the token endpoints. No cookies cross origins (credentials
 * false): these endpoints are authorized by bearer tokens and client credentials, never by a browser session,
 * and the sign-in pages get no CORS at all.
 */
export type Cors = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

export function corsFor(origins: string[]): Cors {
  return cors({
    origin: origins.includes('*') ? '*' : origins,
    credentials: false,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Accept', 'If-Match', 'If-None-Match', 'If-None-Exist', 'If-Modified-Since', 'Prefer'],
    exposedHeaders: ['Location', 'Content-Location', 'ETag', 'Last-Modified', 'WWW-Authenticate', 'Retry-After', 'X-Progress', 'Expires'],
    maxAge: 600,
  });
}

/**
 * Runs the CORS rule on node's own request and response: true when the request goes on, false when it was a
 * preflight, answered here. The options are static, so `cors` decides synchronously (it calls `next` or ends the
 * response before returning).
 */
export function passesCors(rule: Cors, req: IncomingMessage, res: ServerResponse): boolean {
  let passed = false;
  rule(req, res, () => {
    passed = true;
  });
  return passed;
}
