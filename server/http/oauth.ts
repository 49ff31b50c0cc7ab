import express, { type Request, type Response, Router } from 'express';
import type { AuthServer } from '../auth/auth-server.js';
import { tokenIssuedEvent } from '../audit/auth-events.js';
import { callerOfToken } from '../auth/caller-of-token.js';
import type { ResourceStore } from '../store/resource-store.js';
import { endpoints, openidConfiguration, smartConfiguration } from '../auth/discovery.js';
import { introspectionEndpoint } from '../auth/introspection.js';
import { LoggedOAuthError, OAuthError } from '../auth/oauth-error.js';
import { revocationEndpoint } from '../auth/revocation.js';
import { tokenEndpoint } from '../auth/token/token-endpoint.js';
import type { Logger } from '../log/logger.js';
import { retryLater } from './errors.js';
import { rootOf } from './root.js';

/**
 * The Express side of the authorization server's machine-to-machine endpoints: discovery documents, JWKS, token,
 * revocation and introspection. Each handler turns the HTTP request into plain values for server/auth and its
 * answer (or OAuthError) back into JSON. Every token issued is recorded in the audit trail (`audit`) first.
 */
export function oauthRoutes(auth: AuthServer, options: { baseUrl?: string }, logger: Logger, audit?: ResourceStore): Router {
  const router = Router();
  const root = (req: Request) => rootOf(req, options.baseUrl);
  const form = express.urlencoded({ extended: false, limit: '64kb', type: () => true });

  router.get('/fhir/.well-known/smart-configuration', (req, res) => sendJson(res, 200, smartConfiguration(root(req))));
  router.get('/.well-known/openid-configuration', (req, res) => sendJson(res, 200, openidConfiguration(root(req))));
  router.get('/auth/jwks', async (_req, res, next) => {
    try {
      sendJson(res, 200, await auth.keys.jwks());
    } catch (error) {
      next(error);
    }
  });

  /** A form-posting endpoint: the request as plain values, the answer as JSON, errors as RFC 6749 §5.2 bodies. */
  const endpoint = (path: string, answer: (request: Parameters<typeof tokenEndpoint>[1]) => Promise<unknown>) => {
    router.post(path, form, async (req, res) => {
      try {
        const at = endpoints(root(req));
        sendJson(res, 200, await answer({ form: formOf(req), authorization: req.get('authorization'), tokenEndpoint: at.token, root: root(req) }));
      } catch (error) {
        sendOAuthError(res, error, logger);
      }
    });
    router.all(path, (_req, res) => sendOAuthError(res, new OAuthError('invalid_request', `${path} takes POST with a form body`), logger));
  };
  endpoint('/auth/token', async (request) => {
    const issued = await tokenEndpoint(auth, request);
    // Recorded before the token is handed out: a grant the audit trail cannot record is not given.
    if (audit) {
      const caller = (await callerOfToken(auth, issued.access_token)) ?? { kind: 'system', clientId: request.form.client_id, scopes: [] };
      await audit.create(tokenIssuedEvent(caller, request.form.grant_type));
    }
    return issued;
  });
  // RFC 7009 §2.2: 200 with an empty body whether or not the token existed.
  endpoint('/auth/revoke', async (request) => {
    await revocationEndpoint(auth, request);
    return {};
  });
  endpoint('/auth/introspect', (request) => introspectionEndpoint(auth, request));
  return router;
}

/** Form fields as strings; a repeated field is a malformed request (RFC 6749 §3.2: parameters MUST NOT repeat). */
function formOf(req: Request): Record<string, string> {
  if (!req.is('application/x-www-form-urlencoded')) throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
  const form: Record<string, string> = {};
  for (const [name, value] of Object.entries((req.body ?? {}) as Record<string, unknown>)) {
    if (typeof value !== 'string') throw new OAuthError('invalid_request', `${name} is given more than once`);
    form[name] = value;
  }
  return form;
}

function sendJson(res: Response, status: number, body: unknown): void {
  // Token responses and errors must not be cached (RFC 6749 §5.1).
  res.status(status).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).type('application/json').send(JSON.stringify(body));
}

export function sendOAuthError(res: Response, error: unknown, logger: Logger): void {
  if (error instanceof OAuthError) {
    if (error instanceof LoggedOAuthError) logger.warn(error.logged.fields, error.logged.message);
    if (error.status === 401) res.set('WWW-Authenticate', 'Basic realm="token", Bearer');
    sendJson(res, error.status, error.body());
    return;
  }
  const retry = retryLater(error);
  if (retry) {
    res.set(retry);
    sendJson(res, 503, { error: 'temporarily_unavailable', error_description: 'the authorization server cannot reach its database at the moment; retry later' });
    return;
  }
  logger.error({ err: error }, 'authorization server failure');
  sendJson(res, 500, { error: 'server_error', error_description: 'the authorization server failed; the request can be retried' });
}
