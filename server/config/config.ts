import path from 'node:path';
import { DEFAULT_MAX_JSON_DEPTH, MAX_JSON_DEPTH_LIMIT } from '../fhir/json-text.js';
import { isValidId } from '../fhir/resource-types.js';
import { loadRequiredProfiles, type RequiredProfiles } from '../conformance/required-profiles.js';
import type { LogFormat } from '../log/logger.js';

/** Everything the server can be told, read once from the environment at start-up. */
export interface Config {
  port: number;
  /** Address to listen on: loopback unless told otherwise, since the first start prints administrator secrets. */
  host: string;
  /** Folder of the embedded PGlite database; used when `databaseUrl` is not set. */
  dataDir: string;
  /** `postgres://…` selects a PostgreSQL server instead of the embedded database. */
  databaseUrl?: string;
  /** Public base of the FHIR endpoint (e.g. `https://ccp.example.org/fhir`); when unset, links use the request's host. */
  baseUrl?: string;
  /** Largest request body accepted, in bytes (413 past it). */
  bodyLimitBytes: number;
  /** Whether PUT to an id that does not exist creates it (update-as-create with a client-chosen id). */
  allowUpdateCreate: boolean;
  /** Whether `DELETE [type]?criteria` may delete several matching resources. */
  allowMultipleDelete: boolean;
  /** The most entries a transaction or batch Bundle may hold. */
  maxBundleEntries: number;
  /** The deepest nesting a JSON body may have (400 past it); bounds every recursive walk of request input. */
  maxJsonDepth: number;
  /** Page size of history when `_count` is not given, and the largest page size a client may ask for. */
  defaultPageSize: number;
  maxPageSize: number;
  logLevel: string;
  /** LOG_FORMAT: `json` or `pretty`; unset = pretty on a terminal, JSON otherwise (server/log/logger.ts). */
  logFormat?: LogFormat;
  /** Folder of custom SearchParameters (JSON), added to the official R4 ones; absent folder = none. */
  searchParametersDir: string;
  /** The FHIR API without access tokens: local experiments only, refused when NODE_ENV=production. */
  authDisabled: boolean;
  /** Browser origins allowed to call the FHIR API and the token endpoints (CORS); `['*']` for any. */
  corsOrigins: string[];
  /**
   * APP_FRAME_ANCESTORS: the EHR origins that may show the app (/app/) in a frame, and with it the sign-in pages
   * the app's authorization goes through; empty = the app only on its own origin, the pages in no frame at all.
   */
  appFrameAncestors: string[];
  /** JSON file of external OpenID Connect identity providers; absent = local accounts only. */
  identityProvidersFile?: string;
  /** JSON file of OAuth clients registered by configuration; absent = admin API only. */
  clientsFile?: string;
  /** The Terms of Use every user must accept; a changed text is a new version. */
  termsFile: string;
  /** The Organization (id) hosting the CCP service: its staff review registrations and are not held by them. */
  hostingOrganization?: string;
  /** How long an approved registration lasts, in days. */
  registrationDays: number;
  /** How long a break-the-glass override lasts, in hours (default 4). */
  overrideHours: number;
  /** Days audit records are kept before `npm run purge-audit` removes them; absent = kept forever. */
  auditRetentionDays?: number;
  /** JSON file of the profiles resources must conform to, by type and FHIRPath condition (docs/CONFORMANCE.md). */
  requiredProfilesFile: string;
  /** Its rules, checked and compiled at start. */
  requiredProfiles: RequiredProfiles;
  /** Whether the server analyzes tables whose statistics drifted (server/store/statistics-upkeep.ts); off where autovacuum runs. */
  statisticsUpkeep: boolean;
  /** Seconds between two rounds of the statistics upkeep. */
  statisticsUpkeepIntervalSeconds: number;
  /** Seconds between two rounds that make the audit trail's monthly partitions ahead (server/store/audit-partitions.ts). */
  auditPartitionsIntervalSeconds: number;
  /** How many server processes serve the port (node:cluster, server/workers.ts); more than one needs PostgreSQL. */
  workers: number;
  /** Local references must name an existing resource on every write; referenced resources cannot be deleted. */
  referentialIntegrity: boolean;
  /** With referential integrity on: whether a resource that others refer to may still be deleted. */
  deleteReferenced: boolean;
  /** Notifications (docs/NOTIFICATIONS.md). */
  notifications: NotificationConfig;
  /** Bulk Data export (docs/BULK.md). */
  bulkExport: BulkExportConfig;
}

export interface BulkExportConfig {
  /** BULK_EXPORT_FILE_BYTES: an export file is cut before it would pass this size. */
  fileBytes: number;
  /** BULK_EXPORT_EXPIRES_HOURS: how long a finished export's files stay. */
  expiresHours: number;
  /** BULK_EXPORT_CHUNK_ROWS: rows read and written per committed chunk (the resume point after a restart). */
  chunkRows: number;
  /** BULK_EXPORT_MIN_POLL_SECONDS: status polls closer together than this get 429 with Retry-After. */
  minPollSeconds: number;
  /** BULK_EXPORT_LEASE_SECONDS: a running job's lease; another process takes over a dead one's job after it. */
  leaseSeconds: number;
}

export interface NotificationConfig {
  /** SMTP_URL (`smtp://user:pass@host:587`, `smtps://…`): the email channel; absent: email subscriptions are refused. */
  smtpUrl?: string;
  /** MAIL_FROM: the sender of notification emails. */
  mailFrom: string;
  /** APP_URL: where emails send people to read what changed (default: this server's `/app/`). */
  appUrl?: string;
  /** SUBSCRIPTION_ALLOW_LOOPBACK: `http:` and loopback rest-hook endpoints, for local tests; never in production. */
  allowLoopback: boolean;
  /** SUBSCRIPTION_WS_SECRET: the key of websocket binding tokens; absent: one made once and kept in the database. */
  bindingSecret?: string;
  /** SUBSCRIPTION_BINDING_TOKEN_SECONDS: how long a websocket binding token is valid. */
  bindingTokenSeconds: number;
  /** SUBSCRIPTION_RETRY_HOURS: how long a failing endpoint is retried before its subscription goes to error. */
  retryHours: number;
  /**
   * SUBSCRIPTION_DELIVERY_LEASE_SECONDS: how long a notification claimed for sending is the claiming process's
   * alone; after a crash another process (or the restarted one) sends it once this has run out.
   */
  deliveryLeaseSeconds: number;
  /** SUBSCRIPTION_EVENTS_RETENTION_DAYS: how long sent notifications stay for `$events`. */
  eventsRetentionDays: number;
  /** NOTICE_REMINDER_HOURS: how long before a planned downtime its reminder goes out. */
  noticeReminderHours: number;
  /** NOTICE_ROUND_INTERVAL: seconds between the rounds that send reminders and complete downtimes. */
  noticeRoundSeconds: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads and checks the configuration; every problem is reported at once, naming the variable. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const read = <T>(name: string, fallback: T, parse: (raw: string) => T | string): T => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const value = parse(raw.trim());
    if (typeof value === 'string' && typeof fallback !== 'string') {
      problems.push(`${name}: ${value} (got "${raw}")`);
      return fallback;
    }
    return value as T;
  };

  const integer = (min: number, max: number) => (raw: string) => {
    const n = Number(raw);
    return Number.isInteger(n) && n >= min && n <= max ? n : `must be an integer from ${min} to ${max}`;
  };
  const boolean = (raw: string) =>
    /^(true|1|yes)$/i.test(raw) ? true : /^(false|0|no)$/i.test(raw) ? false : 'must be true or false';

  const config: Config = {
    port: read('PORT', 8080, integer(0, 65535)),
    host: env.HOST?.trim() || '127.0.0.1',
    dataDir: path.resolve(env.DATA_DIR?.trim() || 'data'),
    databaseUrl: undefined,
    baseUrl: undefined,
    bodyLimitBytes: read('BODY_LIMIT', 16 * 1024 * 1024, parseByteSize),
    allowUpdateCreate: read('ALLOW_UPDATE_CREATE', true, boolean),
    allowMultipleDelete: read('CONDITIONAL_DELETE_MULTIPLE', false, boolean),
    maxBundleEntries: read('BUNDLE_MAX_ENTRIES', 10000, integer(1, 1000000)),
    maxJsonDepth: read('MAX_JSON_DEPTH', DEFAULT_MAX_JSON_DEPTH, integer(16, MAX_JSON_DEPTH_LIMIT)),
    defaultPageSize: read('DEFAULT_PAGE_SIZE', 20, integer(1, 10000)),
    maxPageSize: read('MAX_PAGE_SIZE', 1000, integer(1, 10000)),
    logLevel: env.LOG_LEVEL?.trim() || 'info',
    logFormat: undefined,
    searchParametersDir: path.resolve(env.SEARCH_PARAMETERS_DIR?.trim() || 'conformance/search-parameters'),
    authDisabled: read('AUTH_DISABLED', false, boolean),
    corsOrigins: read('CORS_ORIGINS', ['*'], parseOrigins),
    appFrameAncestors: read('APP_FRAME_ANCESTORS', [], parseFrameAncestors),
    identityProvidersFile: env.IDENTITY_PROVIDERS_FILE?.trim() ? path.resolve(env.IDENTITY_PROVIDERS_FILE.trim()) : undefined,
    clientsFile: env.CLIENTS_FILE?.trim() ? path.resolve(env.CLIENTS_FILE.trim()) : undefined,
    termsFile: path.resolve(env.TERMS_FILE?.trim() || 'config/terms-of-use.txt'),
    hostingOrganization: undefined,
    registrationDays: read('REGISTRATION_DAYS', 365, integer(1, 36500)),
    overrideHours: read('OVERRIDE_HOURS', 4, integer(1, 72)),
    auditRetentionDays: read<number | undefined>('AUDIT_RETENTION_DAYS', undefined, integer(1, 365000)),
    requiredProfilesFile: path.resolve(env.REQUIRED_PROFILES?.trim() || 'conformance/required-profiles.json'),
    requiredProfiles: { rules: [], requiredProfiles: () => [] },
    statisticsUpkeep: read('STATISTICS_UPKEEP', true, boolean),
    statisticsUpkeepIntervalSeconds: read('STATISTICS_UPKEEP_INTERVAL', 60, integer(1, 86400)),
    auditPartitionsIntervalSeconds: read('AUDIT_PARTITIONS_INTERVAL', 86400, integer(1, 86400)),
    workers: read('WORKERS', 1, integer(1, 64)),
    referentialIntegrity: read('REFERENTIAL_INTEGRITY', true, boolean),
    deleteReferenced: read('DELETE_REFERENCED', false, boolean),
    notifications: {
      mailFrom: env.MAIL_FROM?.trim() || 'CCP Exchange <no-reply@localhost>',
      allowLoopback: read('SUBSCRIPTION_ALLOW_LOOPBACK', false, boolean),
      bindingTokenSeconds: read('SUBSCRIPTION_BINDING_TOKEN_SECONDS', 300, integer(10, 86400)),
      retryHours: read('SUBSCRIPTION_RETRY_HOURS', 24, integer(1, 720)),
      deliveryLeaseSeconds: read('SUBSCRIPTION_DELIVERY_LEASE_SECONDS', 120, integer(1, 3600)),
      eventsRetentionDays: read('SUBSCRIPTION_EVENTS_RETENTION_DAYS', 7, integer(1, 3650)),
      noticeReminderHours: read('NOTICE_REMINDER_HOURS', 24, integer(1, 720)),
      noticeRoundSeconds: read('NOTICE_ROUND_INTERVAL', 60, integer(1, 3600)),
    },
    bulkExport: {
      fileBytes: read('BULK_EXPORT_FILE_BYTES', 64 * 1024 * 1024, parseByteSize),
      expiresHours: read('BULK_EXPORT_EXPIRES_HOURS', 24, integer(1, 720)),
      chunkRows: read('BULK_EXPORT_CHUNK_ROWS', 10_000, integer(10, 100000)),
      minPollSeconds: read('BULK_EXPORT_MIN_POLL_SECONDS', 2, integer(0, 3600)),
      leaseSeconds: read('BULK_EXPORT_LEASE_SECONDS', 60, integer(1, 3600)),
    },
  };
  readNotificationUrls(env, config.notifications, problems);
  const required = loadRequiredProfiles(config.requiredProfilesFile);
  if ('problems' in required) problems.push(...required.problems.map((problem) => `REQUIRED_PROFILES: ${problem}`));
  else config.requiredProfiles = required;
  const hosting = env.HOSTING_ORGANIZATION?.trim();
  if (hosting) {
    if (isValidId(hosting)) config.hostingOrganization = hosting;
    else problems.push('HOSTING_ORGANIZATION: must be the id of an Organization (1-64 of A-Z a-z 0-9 - .)');
  }
  if (config.notifications.allowLoopback && env.NODE_ENV?.trim() === 'production') {
    problems.push('SUBSCRIPTION_ALLOW_LOOPBACK: may not be true when NODE_ENV=production (subscriptions could make the server call its own network)');
  }
  if (config.authDisabled && env.NODE_ENV?.trim() === 'production') {
    problems.push('AUTH_DISABLED: may not be true when NODE_ENV=production (the API would be open to anyone)');
  }

  const databaseUrl = env.DATABASE_URL?.trim();
  if (databaseUrl) {
    if (/^postgres(ql)?:\/\//.test(databaseUrl)) config.databaseUrl = databaseUrl;
    else problems.push('DATABASE_URL: must start with postgres:// or postgresql://');
  }

  if (config.workers > 1 && !config.databaseUrl) {
    problems.push(`WORKERS: ${config.workers} server processes need PostgreSQL (DATABASE_URL); the embedded database lives in one process's memory and its DATA_DIR is locked to it, so WORKERS must be 1 without DATABASE_URL`);
  }

  config.baseUrl = absoluteUrl(env, 'BASE_URL', problems);

  const logFormat = env.LOG_FORMAT?.trim();
  if (logFormat === 'json' || logFormat === 'pretty') config.logFormat = logFormat;
  else if (logFormat) problems.push(`LOG_FORMAT: must be json or pretty (got "${logFormat}")`);
  if (!LOG_LEVELS.includes(config.logLevel)) problems.push(`LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}`);
  if (config.defaultPageSize > config.maxPageSize) problems.push('DEFAULT_PAGE_SIZE: must not exceed MAX_PAGE_SIZE');
  if (config.bulkExport.fileBytes < 1024) problems.push('BULK_EXPORT_FILE_BYTES: must be at least 1kb (a file holds whole resources)');

  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** SMTP_URL, APP_URL and SUBSCRIPTION_WS_SECRET, each checked for what it must be. */
function readNotificationUrls(env: Env, notifications: NotificationConfig, problems: string[]): void {
  const smtp = env.SMTP_URL?.trim();
  if (smtp) {
    if (/^smtps?:\/\/[^/]/.test(smtp)) notifications.smtpUrl = smtp;
    else problems.push('SMTP_URL: must be smtp://[user:password@]host[:port] or smtps://…');
  }
  const appUrl = absoluteUrl(env, 'APP_URL', problems);
  if (appUrl) notifications.appUrl = appUrl;
  const secret = env.SUBSCRIPTION_WS_SECRET?.trim();
  if (secret) {
    if (Buffer.byteLength(secret) >= 32) notifications.bindingSecret = secret;
    else problems.push('SUBSCRIPTION_WS_SECRET: must be at least 32 bytes (e.g. openssl rand -hex 32)');
  }
}

/**
 * The origin a person on this machine reaches the server at: the address it listens on, or `localhost` when that
 * is every interface (`0.0.0.0`, `::`), which is no address to connect to.
 */
export function listeningOrigin(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}

/** `*`, or a comma-separated list of origins such as `https://app.example.org`. */
function parseOrigins(raw: string): string[] | string {
  if (raw === '*') return ['*'];
  const origins = raw.split(',').map((origin) => origin.trim()).filter(Boolean);
  for (const origin of origins) {
    try {
      if (new URL(origin).origin !== origin) return `${origin} is not an origin (scheme://host[:port], no path)`;
    } catch {
      return `${origin} is not an origin (scheme://host[:port], no path)`;
    }
  }
  return origins;
}

/**
 * Space-separated http(s) origins, as a CSP source list has them (`https://ehr.example.org http://localhost:3000`).
 * Only origins: a path, a wildcard or a keyword would widen or change what the policy allows.
 */
function parseFrameAncestors(raw: string): string[] | string {
  const origins = raw.split(/\s+/).filter(Boolean);
  for (const origin of origins) {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    // WHATWG URLs take `*` in a host name, where CSP would read a wildcard.
    if (!url || !/^https?:$/.test(url.protocol) || url.origin !== origin || url.hostname.includes('*')) return `${origin} is not an http or https origin (scheme://host[:port], no path), separated by spaces`;
  }
  return origins;
}

/** The variable `name` as an absolute http(s) URL without a trailing slash; absent or refused (named): undefined. */
function absoluteUrl(env: Env, name: string, problems: string[]): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const normalized = normalizeBaseUrl(raw);
  if (!normalized) problems.push(`${name}: must be an absolute http(s) URL without query or fragment (got "${raw}")`);
  return normalized;
}

function normalizeBaseUrl(raw: string): string | undefined {
  try {
    const url = new URL(raw);
    if (!/^https?:$/.test(url.protocol) || url.search || url.hash) return undefined;
    return url.toString().replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** `16mb`, `512kb`, `1048576`: the forms people write for a size. */
export function parseByteSize(raw: string): number | string {
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(raw);
  if (!match) return 'must be a size such as 1048576, 512kb or 16mb';
  const bytes = Math.floor(Number(match[1]) * UNITS[(match[2] ?? '').toLowerCase()]);
  return bytes >= 1 ? bytes : 'must be at least 1 byte';
}
