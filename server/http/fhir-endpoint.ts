import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import type { Request, Response } from 'express';
import express from 'express';
import type { Caller } from '../access/caller.js';
import { FhirError } from '../fhir/outcome.js';
import type { Logger } from '../log/logger.js';
import type { FhirOptions, FhirRequest } from '../rest/types.js';
import { parseBody, parseSearchForm } from './body.js';
import { requestHeaders } from './header-text.js';
import { DEFAULT_MAX_JSON_DEPTH } from '../fhir/json-text.js';
import { parseQueryText } from '../fhir/query-text.js';
import { toFhirError } from './errors.js';
import { FHIR_JSON, responseMediaType } from './negotiation.js';
import { sendFhir } from './send.js';

/*
 * The transport's steps of a FHIR request (server/pipeline/fhir-request.ts runs them in order): the body, read only
 * when there is one; the FhirRequest, free of HTTP; the format of the answer. Node's own request and response, not
 * Express's: the FHIR API is answered before Express's router.
 */

/** How the answer is written: `_format`/`Accept` and `_pretty`, as far as the request was read before a failure. */
export interface ResponseFormat {
  mediaType: string;
  pretty: boolean;
}

/**
 * The raw body within `limit` bytes (413 past it), or undefined when the request has none (a GET): the body parser
 * runs only for requests that carry a body. Its errors become OperationOutcomes in server/http/errors.ts.
 */
export function bodyReader(limit: number): (req: IncomingMessage, res: ServerResponse) => Promise<Buffer | undefined> {
  const parse = express.raw({ type: () => true, limit });
  return (req, res) => {
    if (req.headers['transfer-encoding'] === undefined && req.headers['content-length'] === undefined) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      parse(req as Request, res as Response, (error?: unknown) => (error ? reject(error) : resolve((req as IncomingMessage & { body?: Buffer }).body)));
    });
  };
}

/**
 * The FhirRequest of an HTTP request to `url` (the part after `/fhir`, with its query) at `baseUrl`: the query,
 * strictly decoded; the answer's format (406); a search form's parameters; the parsed body (400, 415). `format` is
 * filled in as the request is read, so a failure is answered in the format asked for, as far as it is known.
 */
export function fhirRequestOf(
  req: IncomingMessage,
  url: string,
  raw: Buffer | undefined,
  caller: Caller,
  baseUrl: string,
  options: FhirOptions,
  format: ResponseFormat,
): FhirRequest {
  const question = url.indexOf('?');
  const query = parseQueryText(question === -1 ? '' : url.slice(question + 1), "The URL's query");
  format.pretty = query._pretty?.[0] === 'true';
  const path = (question === -1 ? url : url.slice(0, question)).replace(/^\/+|\/+$/g, '');
  // A bulk export file is NDJSON: asking for it so is no 406.
  format.mediaType = responseMediaType(query._format?.[0], req.headers.accept, path.startsWith('$export-file/'));
  const method = req.method ?? 'GET';
  const contentType = req.headers['content-type'];
  const searchForm = method === 'POST' && /(^|\/)_search$/.test(path);
  if (searchForm) mergeInto(query, parseSearchForm(contentType, raw));
  return {
    method: method === 'HEAD' ? 'GET' : method,
    path,
    query,
    body: searchForm ? undefined : parseBody(method, contentType, raw, options.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH),
    headers: requestHeaders(req.headers),
    baseUrl,
    caller,
  };
}

/** `_pretty` as the query parser of Express read it: the format of failures before the query is read strictly. */
export function prettyOf(url: string): boolean {
  const question = url.indexOf('?');
  return question !== -1 && parseQueryString(url.slice(question + 1))._pretty === 'true';
}

/** Errors raised outside the FHIR API (the pages, the admin API's bearer check) get the same OperationOutcome shape. */
export function fhirErrorHandler(error: unknown, req: Request, res: Response, next: (err?: unknown) => void): void {
  if (res.headersSent) return next(error);
  sendError(res, toFhirError(error, res.locals.log as Logger), { mediaType: FHIR_JSON, pretty: req.query._pretty === 'true' });
}

export function sendError(res: ServerResponse, error: FhirError, format: ResponseFormat, req?: IncomingMessage): void {
  sendFhir(res, error.status, format.mediaType, format.pretty, error.outcome, error.headers, req);
}

/** Form parameters join the URL's: both are the search's parameters. */
function mergeInto(query: Record<string, string[]>, more: Record<string, string[]>): void {
  for (const [name, values] of Object.entries(more)) {
    if (Object.hasOwn(query, name)) query[name].push(...values);
    else query[name] = values;
  }
}
