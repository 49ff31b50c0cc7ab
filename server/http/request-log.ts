import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { Logger } from '../log/logger.js';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives each request an id (the caller's `X-Request-Id` when it is a plain token) and logs one line when the
 * response is done: method, path, status, duration. Never the query string or the body: they can hold PHI.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    res.locals.log = logRequest(logger, req, res, req.originalUrl);
    next();
  };
}

/** The rule of `requestLog` on node's own request and response (the FHIR API): the request's logger. */
export function logRequest(logger: Logger, req: IncomingMessage, res: ServerResponse, url: string): Logger {
  const offered = req.headers['x-request-id'];
  const requestId = typeof offered === 'string' && SAFE_ID.test(offered) ? offered : randomUUID();
  const log = logger.child({ requestId });
  res.setHeader('X-Request-Id', requestId);
  const started = process.hrtime.bigint();
  res.on('finish', () => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    log.info({ method: req.method, path: url.split('?')[0], status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
  });
  return log;
}
