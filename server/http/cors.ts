import cors from 'cors';
import type { RequestHandler } from 'express';

/**
 * CORS for browser SMART apps on the FHIR API and the token endpoints. No cookies cross origins (credentials
 * false): these endpoints are authorized by bearer tokens and client credentials, never by a browser session,
 * and the sign-in pages get no CORS at all.
 */
export function corsFor(origins: string[]): RequestHandler {
  return cors({
    origin: origins.includes('*') ? '*' : origins,
    credentials: false,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Accept', 'If-Match', 'If-None-Match', 'If-None-Exist', 'If-Modified-Since', 'Prefer'],
    exposedHeaders: ['Location', 'Content-Location', 'ETag', 'Last-Modified', 'WWW-Authenticate', 'Retry-After'],
    maxAge: 600,
  });
}
