import type { Request, RequestHandler, Response } from 'express';
import { FhirError } from '../fhir/outcome.js';
import type { Logger } from '../log/logger.js';
import { handleFhirRequest } from '../rest/router.js';
import type { FhirContext, FhirRequest } from '../rest/types.js';
import { parseBody, parseSearchForm } from './body.js';
import { requestHeaders } from './header-text.js';
import { DEFAULT_MAX_JSON_DEPTH } from '../fhir/json-text.js';
import { parseQueryText } from '../fhir/query-text.js';
import { toFhirError } from './errors.js';
import { FHIR_JSON, responseMediaType } from './negotiation.js';
import { callerOf } from './bearer.js';
import { sendFhir } from './send.js';

export interface EndpointOptions {
  /** Public base URL of the FHIR endpoint; when unset, the request's own scheme and host are used. */
  baseUrl?: string;
}

/** The Express side of the FHIR API: turns the HTTP request into a FhirRequest and the result back into HTTP. */
export function fhirEndpoint(context: FhirContext, options: EndpointOptions): RequestHandler {
  return async (req, res) => {
    let pretty = false;
    let mediaType = FHIR_JSON;
    try {
      const query = queryOf(req);
      pretty = query._pretty?.[0] === 'true';
      mediaType = responseMediaType(query._format?.[0], req.get('accept'));
      const path = req.path.replace(/^\/+|\/+$/g, '');
      const searchForm = req.method === 'POST' && /(^|\/)_search$/.test(path);
      if (searchForm) mergeInto(query, parseSearchForm(req.get('content-type'), req.body));
      const request: FhirRequest = {
        method: req.method === 'HEAD' ? 'GET' : req.method,
        path,
        query,
        body: searchForm ? undefined : parseBody(req.method, req.get('content-type'), req.body, context.options.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH),
        headers: requestHeaders(req.headers),
        baseUrl: options.baseUrl ?? `${req.protocol}://${req.get('host')}${req.baseUrl}`,
        caller: callerOf(res),
      };
      const response = await handleFhirRequest(request, context);
      sendFhir(res, response.status, mediaType, pretty, response.body, response.headers);
    } catch (error) {
      sendError(res, toFhirError(error, logOf(res)), mediaType, pretty);
    }
  };
}

/** Errors raised before the endpoint runs (body too large, unreadable body) get the same OperationOutcome shape. */
export function fhirErrorHandler(error: unknown, req: Request, res: Response, next: (err?: unknown) => void): void {
  if (res.headersSent) return next(error);
  sendError(res, toFhirError(error, logOf(res)), FHIR_JSON, req.query._pretty === 'true');
}

function sendError(res: Response, error: FhirError, mediaType: string, pretty: boolean): void {
  sendFhir(res, error.status, mediaType, pretty, error.outcome, error.headers);
}

/** Query parameters in order, repeated ones kept: FHIR gives repetition a meaning (AND). */
function queryOf(req: Request): Record<string, string[]> {
  const search = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
  return parseQueryText(search, "The URL's query");
}

/** Form parameters join the URL's: both are the search's parameters. */
function mergeInto(query: Record<string, string[]>, more: Record<string, string[]>): void {
  for (const [name, values] of Object.entries(more)) {
    if (Object.hasOwn(query, name)) query[name].push(...values);
    else query[name] = values;
  }
}

function logOf(res: Response): Logger {
  return res.locals.log as Logger;
}
