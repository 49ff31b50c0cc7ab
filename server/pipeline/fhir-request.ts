import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthServer } from '../auth/auth-server.js';
import { callerOfAuthorization } from '../http/bearer.js';
import { type Cors, passesCors } from '../http/cors.js';
import { toFhirError } from '../http/errors.js';
import { bodyReader, fhirRequestOf, prettyOf, type ResponseFormat, sendError } from '../http/fhir-endpoint.js';
import { FHIR_JSON } from '../http/negotiation.js';
import { logRequest } from '../http/request-log.js';
import { setSecurityHeaders } from '../http/security-headers.js';
import { sendFhir, sendJson, sendStream } from '../http/send.js';
import type { Logger } from '../log/logger.js';
import type { FhirContext, FhirRequest, FhirResponse } from '../rest/types.js';
import { compose, initialState, type Step } from './step.js';
import { audit } from './steps/audit.js';
import { authorize } from './steps/authorize.js';
import { consentGate } from './steps/consent-gate.js';
import { resolveRoute } from './steps/resolve-route.js';
import { runInteraction } from './steps/run-interaction.js';

/**
 * Every step of a FHIR request, in order, each a module with one rule (server/pipeline/steps). Over HTTP, the
 * transport's steps come first (`fhirApi` below: security headers, request id and log, CORS, the bearer token, the
 * body, the FhirRequest); then these, which Bundle entries, the import and the tests run without any HTTP.
 * Authentication comes before the route so that a token that does not work is a 401 on any path, before anything
 * is read or recorded; the audit step comes before authorization so that refusals are recorded too.
 */
export const FHIR_REQUEST_STEPS: readonly Step[] = [
  resolveRoute, //    the route table (routes.ts): the interaction and its parameters, or the 404/405/400 it gets
  audit, //           exactly one AuditEvent for what follows, refusals and failures included (server/audit)
  authorize, //       the route's permissions: token scopes ∩ role (server/access), or 401/403
  consentGate, //     by id: the row within the grant's reach and patient consent (server/consent), or 404/403
  runInteraction, //  the interaction (server/rest/interactions, or an operation); a restricted write checked in its transaction
];

const run = compose(FHIR_REQUEST_STEPS);

/**
 * A FHIR request through the pipeline, without any HTTP server (tests, the import and Bundle entries do): the
 * caller is already known; failures come back as FhirErrors, which the transport turns into OperationOutcomes.
 */
export function handleFhirRequest(request: FhirRequest, context: FhirContext): Promise<FhirResponse> {
  return run(initialState(request, context));
}

export interface FhirApiOptions {
  /** Public base URL of the FHIR endpoint; when unset, the request's own scheme and host are used. */
  baseUrl?: string;
  bodyLimitBytes: number;
  cors: Cors;
  /** The authorization server; absent only when the API runs without tokens (AUTH_DISABLED). */
  auth?: AuthServer;
}

/**
 * The FHIR API over HTTP on node's own request and response (server/app.ts hands it `/fhir` requests before
 * Express's router). `url` is what follows `/fhir` (path and query), `mount` the `/fhir` as the client wrote it.
 */
export function fhirApi(context: FhirContext, logger: Logger, options: FhirApiOptions): (req: IncomingMessage, res: ServerResponse, url: string, mount: string) => Promise<void> {
  const readBody = bodyReader(options.bodyLimitBytes);
  const answer = async (req: IncomingMessage, res: ServerResponse, url: string, mount: string): Promise<void> => {
    setSecurityHeaders(res); //                                 helmet's headers, computed once (http/security-headers.ts)
    const log = logRequest(logger, req, res, mount + url); //   a request id, one log line when answered (http/request-log.ts)
    if (!passesCors(options.cors, req, res)) return; //         CORS; a preflight is answered there (http/cors.ts)
    // Until the query is read strictly, a failure is answered as the lenient parser of Express read `_pretty`.
    let format: ResponseFormat = { mediaType: FHIR_JSON, pretty: prettyOf(url) };
    let streaming = false;
    try {
      const caller = await callerOfAuthorization(options.auth, req.headers.authorization); // bearer token → Caller, or 401 (http/bearer.ts)
      const raw = await readBody(req, res); //                  the body, only when there is one: 413 (http/fhir-endpoint.ts)
      format = { mediaType: FHIR_JSON, pretty: false };
      const baseUrl = options.baseUrl ?? `${isEncrypted(req) ? 'https' : 'http'}://${req.headers.host}${mount}`;
      // the query, the format of the answer (406), the body (400, 415): free of HTTP from here on (http/fhir-endpoint.ts)
      const request = fhirRequestOf(req, url, raw, caller, baseUrl, context.options, format);
      const response = await handleFhirRequest(request, context); // the steps above
      // respond (http/send.ts): a FHIR resource; or a bulk export's manifest (JSON) or file (streamed NDJSON)
      if (response.stream) {
        streaming = true;
        await sendStream(res, response.status, response.stream, response.headers, req.method);
      } else if (response.json !== undefined) sendJson(res, response.status, response.json, response.headers, req.method);
      else sendFhir(res, response.status, format.mediaType, format.pretty, response.body, response.headers, req);
    } catch (error) {
      // A stream that failed once started was cut (sendStream): logged, nothing more can be said to the client.
      if (streaming && res.headersSent) {
        log.error({ err: error }, 'a streamed response failed');
        return;
      }
      sendError(res, toFhirError(error, log), format, req); //  one OperationOutcome for every failure, no internals (http/errors.ts)
    }
  };
  // Nothing above should throw outside its `try`; if it does, the request still gets a 500 and the process lives on.
  return (req, res, url, mount) =>
    answer(req, res, url, mount).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, toFhirError(error, logger), { mediaType: FHIR_JSON, pretty: false });
      else res.destroy();
    });
}

function isEncrypted(req: IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true;
}
