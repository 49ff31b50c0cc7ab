import cluster from 'node:cluster';
import type { Server } from 'node:http';
import type { Organization } from 'fhir/r4';
import { createApp } from './app.js';
import { createBulkExports } from './export/engine/engine.js';
import { type AuthServer, createAuthServer } from './auth/auth-server.js';
import { bootstrap, bootstrapMessage } from './auth/bootstrap.js';
import { APP_CLIENT_ID, ensureAppClient } from './auth/app-client.js';
import { applyClientsFile, loadIdentityProviders } from './auth/static-config.js';
import { publishTerms } from './auth/terms.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { extractIndexRows } from './search/index/extract.js';
import { SqlResourceStore } from './store/sql-resource-store.js';
import { ConfigError, listeningOrigin, loadConfig } from './config/config.js';
import { createLogger, logFormatFor } from './log/logger.js';
import { loadRegistry } from './search/custom-parameters.js';
import { openDatabase } from './store/open.js';
import { createStatisticsUpkeep } from './store/statistics-upkeep.js';
import { createAuditIndexRounds } from './store/audit-index-queue.js';
import { createAuditPartitionUpkeep } from './store/audit-partitions.js';
import { SchemaValidator } from './validation/schema-validator.js';
import { seedGuide } from './store/guide-seed.js';
import { checkHostingOrganization, hostingOrganizationLog } from './consent/hosting-organization.js';
import { runWorkers } from './workers.js';
import { type Notifier, startNotifier } from './notifier.js';
import { reconcilePartnerSubscriptions } from './notifications/partner-subscriptions.js';
import { createNoticeRounds } from './notices/rounds.js';
import { createFhirContext } from './pipeline/context.js';
import type { SubscriptionOptions } from './rest/types.js';
import { serverSecret } from './store/server-secrets.js';

/** How often the audit trail's queued index rows are moved into its index tables (server/store/audit-index-queue.ts). */
const AUDIT_INDEX_INTERVAL_MS = 1000;

/** `npm start`: read the configuration, open and migrate the database, serve until told to stop. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, logFormatFor(config.logFormat, process.stdout.isTTY === true));
  if (config.workers > 1 && cluster.isPrimary) return runWorkers(config.workers, logger, (code) => process.exit(code));
  const database = config.databaseUrl ? 'postgres' : 'pglite';
  logger.info({ database, dataDir: config.databaseUrl ? undefined : config.dataDir }, 'opening database');
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });

  const schema = new SchemaValidator();
  const compiling = Date.now();
  schema.compileAll();
  logger.info({ ms: Date.now() - compiling, precompiled: schema.precompiled }, schema.precompiled ? 'schema validators loaded (precompiled by the build)' : 'schema validators compiled');

  const { registry, custom } = loadRegistry(config.searchParametersDir, schema);
  if (custom.length) logger.info({ custom: custom.length }, 'custom search parameters loaded');

  const seeding = Date.now();
  const store = new SqlResourceStore(db, (resource) => extractIndexRows(resource, registry));
  const seeded = await seedGuide(store, registry);
  logger.info({ ms: Date.now() - seeding, created: seeded.created.length, updated: seeded.updated.length, retired: seeded.retired.length }, 'implementation guide in the store');

  let hosting: Organization | undefined;
  if (config.hostingOrganization) {
    const checked = await checkHostingOrganization(store, config.hostingOrganization);
    if ('problem' in checked) {
      console.error(checked.problem);
      await db.close();
      process.exit(1);
    }
    hosting = checked.organization;
  }
  const { fields: hostingFields, message: hostingMessage } = hostingOrganizationLog(config.hostingOrganization, hosting);
  logger.info(hostingFields, hostingMessage);

  // Partners' email records for organizations written before this server kept them (or while it was stopped).
  const partners = await reconcilePartnerSubscriptions(db, store, config.hostingOrganization);
  if (partners.put.length || partners.removed.length) logger.info({ put: partners.put.length, removed: partners.removed.length }, "partners' email subscriptions brought up to date");

  let auth: AuthServer | undefined;
  if (config.authDisabled) {
    logger.warn('AUTH_DISABLED=true: THE FHIR API ACCEPTS REQUESTS WITHOUT ANY ACCESS TOKEN. For local experiments only, never with real data.');
  } else {
    auth = createAuthServer(db, { identityProviders: config.identityProvidersFile ? loadIdentityProviders(config.identityProvidersFile) : [] });
    const terms = await publishTerms(db, readFileSync(config.termsFile, 'utf8'));
    logger.info({ version: terms.version }, 'Terms of Use in force');
    if (config.clientsFile) logger.info({ clients: await applyClientsFile(auth, config.clientsFile) }, 'clients from CLIENTS_FILE registered');
    const root = config.baseUrl?.replace(/\/fhir$/, '') ?? listeningOrigin(config.host, config.port);
    const credentials = await bootstrap(auth, store);
    // After the first start's accounts: bootstrap makes them only on a database without any client.
    const appClient = await ensureAppClient(auth, root);
    if (appClient.outcome === 'refused') logger.warn({ client: APP_CLIENT_ID, problems: appClient.problems }, 'the app is not registered as a SMART client: set BASE_URL to its https address');
    else if (appClient.outcome !== 'unchanged') logger.info({ client: APP_CLIENT_ID, outcome: appClient.outcome }, 'the app registered as a SMART client');
    if (credentials) console.log(bootstrapMessage(credentials, root));
  }

  const upkeep = createStatisticsUpkeep(db, { enabled: config.statisticsUpkeep, intervalMs: config.statisticsUpkeepIntervalSeconds * 1000, logger });
  upkeep.start();
  const auditIndex = createAuditIndexRounds(db, { intervalMs: AUDIT_INDEX_INTERVAL_MS, logger });
  auditIndex.start();
  const partitions = createAuditPartitionUpkeep(db, { intervalMs: config.auditPartitionsIntervalSeconds * 1000, logger });
  partitions.start();
  const notices = createNoticeRounds(db, {
    index: (resource) => extractIndexRows(resource, registry),
    intervalMs: config.notifications.noticeRoundSeconds * 1000,
    reminderHours: config.notifications.noticeReminderHours,
    logger,
  });
  notices.start();

  const notifications = config.notifications;
  const bindingSecret = notifications.bindingSecret ?? (await serverSecret(db, 'websocket-binding'));
  const subscriptions: SubscriptionOptions = {
    allowHttpLoopback: notifications.allowLoopback,
    bindingSecret,
    bindingTokenSeconds: notifications.bindingTokenSeconds,
    email: notifications.smtpUrl !== undefined,
  };
  if (notifications.allowLoopback) logger.warn('SUBSCRIPTION_ALLOW_LOOPBACK=true: rest-hook subscriptions may call http: and loopback addresses. For local tests only.');
  // Bulk export jobs run in every process, each job by the holder of its lease (docs/BULK.md).
  const bulkExports = createBulkExports(db, { registry, options: { hostingOrganization: config.hostingOrganization } }, { ...config.bulkExport, logger });
  bulkExports.run();
  // The built app beside the built server (dist/app: `npm run build` makes both).
  const appDir = fileURLToPath(new URL('../app/', import.meta.url));
  const options = { ...config, subscriptions, bulkExportPollSeconds: config.bulkExport.minPollSeconds, appDir };
  const app = createApp({ db, logger, schema, registry, options, auth, bulkExports });
  let notifier: Notifier | undefined;
  const server: Server = app.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    // Started once the port is known: notifications name resources by the server's base URL.
    const context = createFhirContext(db, schema, registry, (resource) => extractIndexRows(resource, registry), { ...options, secured: Boolean(auth) });
    notifier = startNotifier({ db, context, config: notifications, bindingSecret, baseUrl: config.baseUrl ?? `${listeningOrigin(config.host, port)}/fhir`, logger });
    logger.info({ channels: notifier.channels }, 'notifications: delivery engine started');
    const everywhere = config.host === '0.0.0.0' || config.host === '::';
    logger.info(
      { host: config.host, port, database },
      `FHIR server listening on ${everywhere ? `every interface (HOST=${config.host}), ` : ''}${listeningOrigin(config.host, port)}/fhir`,
    );
  });
  // The websocket channel of Subscriptions; any other upgrade is not ours to take.
  server.on('upgrade', (request, socket, head) => {
    if (!notifier?.websocket.handleUpgrade(request, socket, head)) socket.destroy();
  });
  server.on('error', (error) => {
    logger.fatal({ err: error }, 'cannot listen');
    process.exit(1);
  });

  let stopping = false;
  const stop = (signal: string) => {
    // A worker (WORKERS) hears Ctrl-C from the terminal and SIGTERM from its primary: one stop.
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Upgraded sockets are the websocket channel's, not the HTTP server's: closed first, or the close would wait on them.
    void notifier?.websocket.shutdown();
    server.close(() => {
      Promise.all([upkeep.stop(), partitions.stop(), auditIndex.stop(), notices.stop(), notifier?.stop(), bulkExports.stop()]).then(() => db.close()).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
    // Keep-alive connections must not hold the process open forever.
    setTimeout(() => server.closeAllConnections(), 5000).unref();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error('The server could not start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
