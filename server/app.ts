import express, { type Express } from 'express';
import helmet from 'helmet';
import { FhirError } from './fhir/outcome.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fhirErrorHandler } from './http/fhir-endpoint.js';
import { healthz, readyz } from './http/health.js';
import { bearer } from './http/bearer.js';
import { oauthRoutes } from './http/oauth.js';
import { adminRoutes } from './http/admin.js';
import { authorizationRoutes } from './http/authorization.js';
import { corsFor } from './http/cors.js';
import { appHost } from './http/app-host.js';
import { framePolicy } from './http/frame-policy.js';
import type { AuthServer } from './auth/auth-server.js';
import { requestLog } from './http/request-log.js';
import { sendFhir } from './http/send.js';
import { FHIR_JSON } from './http/negotiation.js';
import type { Logger } from './log/logger.js';
import type { BulkExports } from './bulk/model.js';
import type { FhirOptions } from './rest/types.js';
import type { Database } from './store/database.js';
import { createFhirContext } from './pipeline/context.js';
import { fhirApi } from './pipeline/fhir-request.js';
import { extractIndexRows } from './search/index/extract.js';
import { R4_REGISTRY, type SearchParameterRegistry } from './search/registry.js';
import { SchemaValidator } from './validation/schema-validator.js';

export interface AppDependencies {
  db: Database;
  logger: Logger;
  schema: SchemaValidator;
  /** The search parameters (official R4, plus custom ones); the official ones when not given. */
  registry?: SearchParameterRegistry;
  options: FhirOptions & {
    baseUrl?: string;
    bodyLimitBytes: number;
    corsOrigins?: string[];
    /** APP_FRAME_ANCESTORS: the EHR origins that may frame the app and its sign-in pages (server/http/frame-policy.ts). */
    appFrameAncestors?: string[];
    /** The built app (dist/app), served under /app/; absent or not built, /app/ answers 503. */
    appDir?: string;
  };
  /** The authorization server; absent only when the API runs without tokens (AUTH_DISABLED). */
  auth?: AuthServer;
  /** The bulk export jobs (server/export/engine), which `npm start` runs; absent, `$export` answers 501. */
  bulkExports?: BulkExports;
}

/**
 * The HTTP application: FHIR at /fhir, health probes, the web app at /app/, the authorization server and its pages
 * beside it. No listening here, so tests can drive it. The FHIR API (server/pipeline/fhir-request.ts, every step of
 * a request in one list) is answered before Express's router, which with `res.send` cost about a tenth of a read;
 * everything else is Express.
 */
export function createApp({ db, logger, schema, registry = R4_REGISTRY, options, auth, bulkExports }: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  const context = createFhirContext(db, schema, registry, (resource) => extractIndexRows(resource, registry), { ...options, secured: Boolean(auth) });
  if (bulkExports) context.bulkExports = bulkExports;
  const cors = corsFor(options.corsOrigins ?? ['*']);
  const fhir = fhirApi(context, logger, { baseUrl: options.baseUrl, bodyLimitBytes: options.bodyLimitBytes, cors, auth });
  // Express's application calls its own `handle` for every request (express/lib/express.js): `/fhir` is taken here,
  // but for the SMART configuration document beside it, which the authorization server serves (server/http/oauth.ts).
  const handled = app as Express & { handle: (req: IncomingMessage, res: ServerResponse, done?: unknown) => void };
  const expressHandle = handled.handle.bind(app);
  handled.handle = (req, res, done) => {
    const url = originForm(req.url ?? '/');
    const mount = fhirMountOf(url);
    if (mount === undefined || (auth && SMART_CONFIGURATION.test(url))) return expressHandle(req, res, done);
    void fhir(req, res, url.slice(mount.length), mount);
  };

  app.use(helmet());
  app.use(requestLog(logger));
  // An outage is logged twice, when it starts and when it ends; its requests are 503s (server/http/errors.ts).
  db.availability.onChange((change) => {
    if (change.available) logger.info({ awayMs: change.awayMs }, 'database answers again');
    else logger.warn({ reason: change.reason }, 'database unavailable: requests that need it are answered 503');
  });

  app.get('/healthz', healthz);
  app.get('/readyz', readyz(db));
  app.use(appHost(options.appDir, framePolicy(options.appFrameAncestors ?? [])));

  app.use(['/fhir/.well-known', '/.well-known', '/auth/token', '/auth/revoke', '/auth/introspect', '/auth/jwks'], cors);
  if (auth) {
    app.use(oauthRoutes(auth, { baseUrl: options.baseUrl }, logger, context.store));
    app.use(authorizationRoutes(auth, context, { baseUrl: options.baseUrl, frameAncestors: options.appFrameAncestors }, logger));
    app.use('/auth/admin', bearer(auth));
    app.use(adminRoutes(auth, logger));
  }

  app.use((req, res) => {
    const error = new FhirError(404, { code: 'not-found', diagnostics: `Nothing is served at ${req.path}; FHIR is at /fhir` });
    sendFhir(res, 404, FHIR_JSON, false, error.outcome);
  });
  app.use(fhirErrorHandler);
  return app;
}

/** The SMART configuration's path, as Express's router matches it (any case, a trailing slash). */
const SMART_CONFIGURATION = /^\/fhir\/\.well-known\/smart-configuration\/?(\?|$)/i;

/** A request target in absolute form (`http://host/fhir/…`, which proxies may send) reduced to its path and query. */
function originForm(url: string): string {
  if (url.startsWith('/')) return url;
  const scheme = url.indexOf('://');
  if (scheme === -1) return url;
  const path = url.indexOf('/', scheme + 3);
  return path === -1 ? '/' : url.slice(path);
}

/** `/fhir` as the request wrote it (any case, as Express matched it) when `url` is the FHIR API's, else undefined. */
function fhirMountOf(url: string): string | undefined {
  if (url.length < 5 || url[0] !== '/') return undefined;
  const mount = url.slice(0, 5);
  if (mount.toLowerCase() !== '/fhir') return undefined;
  const next = url[5];
  return next === undefined || next === '/' || next === '?' ? mount : undefined;
}
