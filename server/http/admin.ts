import express, { type Request, type Response, Router } from 'express';
import { adminRefusal } from '../auth/admin/admin-access.js';
import { checkClientRegistration, registrationOf } from '../auth/admin/client-registration.js';
import { checkLaunchRequest } from '../auth/admin/launch-request.js';
import { checkNewUser, checkUserChange, userView } from '../auth/admin/user-registration.js';
import type { AuthServer } from '../auth/auth-server.js';
import { createLaunch } from '../auth/launch.js';
import { hashPassword, randomSecret } from '../auth/secrets.js';
import { publishTerms } from '../auth/terms.js';
import type { Logger } from '../log/logger.js';
import { retryLater } from './errors.js';
import { callerOf } from './bearer.js';

/**
 * The authorization server's admin API (JSON, bearer token): clients, accounts, Terms of Use, and EHR launch
 * contexts. Errors are `{error, error_description, problems}` with every problem found, each naming its field.
 */
export function adminRoutes(auth: AuthServer, logger: Logger): Router {
  const router = Router();
  const json = express.json({ limit: '256kb', type: () => true });

  type Handler = (req: Request, res: Response) => Promise<void>;
  const guarded = (scope: 'admin' | 'ehr-launch', handler: Handler) => async (req: Request, res: Response) => {
    const refusal = adminRefusal(callerOf(res), scope);
    if (refusal === 401) return send(res, 401, { error: 'invalid_token', error_description: 'a bearer token is required' }, { 'WWW-Authenticate': 'Bearer' });
    if (refusal === 403) {
      return send(res, 403, { error: 'insufficient_scope', error_description: `the token needs the ${scope} scope (and a user the administrator role)` }, {
        'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${scope}"`,
      });
    }
    try {
      await handler(req, res);
    } catch (error) {
      const retry = retryLater(error);
      if (retry) return send(res, 503, { error: 'temporarily_unavailable', error_description: 'the database cannot be reached at the moment; retry later' }, retry);
      logger.error({ err: error }, 'admin API failure');
      send(res, 500, { error: 'server_error', error_description: 'the request failed and changed nothing it reports; it can be retried' });
    }
  };
  const invalid = (res: Response, problems: string[]) => send(res, 400, { error: 'invalid_request', error_description: problems.join('; '), problems });
  const notFound = (res: Response, what: string) => send(res, 404, { error: 'not_found', error_description: `no such ${what}` });

  router.get('/auth/admin/clients', guarded('admin', async (_req, res) => send(res, 200, (await auth.clients.list()).map(registrationOf))));
  router.get(
    '/auth/admin/clients/:id',
    guarded('admin', async (req, res) => {
      const client = await auth.clients.find(String(req.params.id));
      return client ? send(res, 200, registrationOf(client)) : notFound(res, 'client');
    }),
  );
  router.post(
    '/auth/admin/clients',
    json,
    guarded('admin', async (req, res) => {
      const { client, problems } = await checkClientRegistration(auth.db, req.body, 'api');
      if (!client) return invalid(res, problems);
      if (await auth.clients.find(client.clientId)) return send(res, 409, { error: 'invalid_request', error_description: `client_id ${client.clientId} is taken` });
      // A secret is made here, shown once, and kept only as a hash.
      const secret = client.authMethod.startsWith('client_secret') ? randomSecret() : undefined;
      await auth.clients.save({ ...client, secretHash: secret ? await hashPassword(secret) : undefined });
      send(res, 201, { ...registrationOf((await auth.clients.find(client.clientId))!), ...(secret ? { client_secret: secret } : {}) });
    }),
  );
  router.put(
    '/auth/admin/clients/:id',
    json,
    guarded('admin', async (req, res) => {
      const existing = await auth.clients.find(String(req.params.id));
      if (!existing) return notFound(res, 'client');
      if (existing.source === 'config') return send(res, 409, { error: 'invalid_request', error_description: 'this client comes from CLIENTS_FILE; change it there' });
      const { client, problems } = await checkClientRegistration(auth.db, { ...(req.body as object), client_id: existing.clientId }, 'api');
      if (!client) return invalid(res, problems);
      if (client.authMethod !== existing.authMethod) return invalid(res, ['token_endpoint_auth_method: cannot change; register a new client']);
      await auth.clients.save({ ...client, secretHash: existing.secretHash });
      send(res, 200, registrationOf((await auth.clients.find(client.clientId))!));
    }),
  );

  router.get('/auth/admin/users', guarded('admin', async (_req, res) => send(res, 200, (await auth.users.list()).map(userView))));
  router.post(
    '/auth/admin/users',
    json,
    guarded('admin', async (req, res) => {
      const { user, problems } = await checkNewUser(auth.db, req.body);
      if (!user) return invalid(res, problems);
      send(res, 201, userView(await auth.users.create(user)));
    }),
  );
  router.patch(
    '/auth/admin/users/:id',
    json,
    guarded('admin', async (req, res) => {
      const { change, problems } = await checkUserChange(auth.db, req.body);
      if (!change) return invalid(res, problems);
      const user = await auth.users.update(String(req.params.id), change);
      return user ? send(res, 200, userView(user)) : notFound(res, 'account');
    }),
  );

  router.put(
    '/auth/admin/terms',
    json,
    guarded('admin', async (req, res) => {
      const text = (req.body as { text?: unknown } | undefined)?.text;
      if (typeof text !== 'string' || !text.trim()) return invalid(res, ['text: the Terms of Use, a non-empty string']);
      send(res, 200, await publishTerms(auth.db, text));
    }),
  );

  router.post(
    '/auth/admin/launch',
    json,
    guarded('ehr-launch', async (req, res) => {
      const { context, problems } = await checkLaunchRequest(auth.db, req.body);
      if (!context) return invalid(res, problems);
      const caller = callerOf(res);
      const { launch, expiresIn } = await createLaunch(auth.db, context, caller.userId ?? caller.clientId ?? 'server');
      send(res, 201, { launch, expires_in: expiresIn, context });
    }),
  );
  return router;
}

function send(res: Response, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.status(status).set({ 'Cache-Control': 'no-store', ...headers }).type('application/json').send(JSON.stringify(body));
}
