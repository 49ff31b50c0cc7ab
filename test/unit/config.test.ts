import path from 'node:path';
import { ConfigError, listeningOrigin, loadConfig, parseByteSize } from '../../server/config/config.js';

describe('configuration from the environment', () => {
  it('defaults: loopback port 8080, embedded database in ./data, no BASE_URL, 16 MiB bodies', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      dataDir: path.resolve('data'),
      databaseUrl: undefined,
      baseUrl: undefined,
      bodyLimitBytes: 16 * 1024 * 1024,
      allowUpdateCreate: true,
      defaultPageSize: 20,
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '9000',
      HOST: '0.0.0.0',
      DATA_DIR: '/tmp/ccp',
      DATABASE_URL: 'postgres://u@db:5432/ccp',
      BASE_URL: 'https://ccp.example.org/fhir/',
      BODY_LIMIT: '2mb',
      ALLOW_UPDATE_CREATE: 'false',
      LOG_LEVEL: 'warn',
    });
    expect(config).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
      dataDir: '/tmp/ccp',
      databaseUrl: 'postgres://u@db:5432/ccp',
      baseUrl: 'https://ccp.example.org/fhir',
      bodyLimitBytes: 2 * 1024 * 1024,
      allowUpdateCreate: false,
      logLevel: 'warn',
    });
  });

  it('the origin printed for a person on this machine: the address listened on, localhost for every interface', () => {
    expect(listeningOrigin('127.0.0.1', 8080)).toBe('http://127.0.0.1:8080');
    expect(listeningOrigin('10.1.2.3', 80)).toBe('http://10.1.2.3:80');
    expect(listeningOrigin('::1', 8080)).toBe('http://[::1]:8080');
    expect(listeningOrigin('0.0.0.0', 8080)).toBe('http://localhost:8080');
    expect(listeningOrigin('::', 9000)).toBe('http://localhost:9000');
  });

  it('WORKERS: 1 by default; more only on PostgreSQL, refused on the embedded database with the reason', () => {
    expect(loadConfig({}).workers).toBe(1);
    expect(loadConfig({ WORKERS: '2', DATABASE_URL: 'postgres://u@db:5432/ccp' }).workers).toBe(2);
    expect(() => loadConfig({ WORKERS: '2' })).toThrow(/WORKERS: 2 server processes need PostgreSQL \(DATABASE_URL\)/);
    expect(() => loadConfig({ WORKERS: '0', DATABASE_URL: 'postgres://u@db:5432/ccp' })).toThrow(/WORKERS: must be an integer from 1 to 64/);
  });

  it('LOG_FORMAT: json or pretty; unset leaves the choice to the terminal test; anything else is named', () => {
    expect(loadConfig({}).logFormat).toBeUndefined();
    expect(loadConfig({ LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: ' pretty ' }).logFormat).toBe('pretty');
    expect(() => loadConfig({ LOG_FORMAT: 'colour' })).toThrow(/LOG_FORMAT: must be json or pretty \(got "colour"\)/);
  });

  it('consent settings: the hosting organization, registration days (365) and override hours (4), each checked', () => {
    expect(loadConfig({})).toMatchObject({ hostingOrganization: undefined, registrationDays: 365, overrideHours: 4 });
    expect(loadConfig({ HOSTING_ORGANIZATION: 'lhin-1', REGISTRATION_DAYS: '30', OVERRIDE_HOURS: '2' })).toMatchObject({
      hostingOrganization: 'lhin-1',
      registrationDays: 30,
      overrideHours: 2,
    });
    let problems: string[] = [];
    try {
      loadConfig({ HOSTING_ORGANIZATION: 'Organization/lhin 1', REGISTRATION_DAYS: '0', OVERRIDE_HOURS: '100' });
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual(['HOSTING_ORGANIZATION', 'OVERRIDE_HOURS', 'REGISTRATION_DAYS']);
  });

  it('bulk export: 64 MiB files, 24 h of expiry, 10,000-row chunks, 2 s between polls, 60 s leases; each checked', () => {
    expect(loadConfig({}).bulkExport).toEqual({ fileBytes: 67108864, expiresHours: 24, chunkRows: 10000, minPollSeconds: 2, leaseSeconds: 60 });
    expect(
      loadConfig({
        BULK_EXPORT_FILE_BYTES: '16mb',
        BULK_EXPORT_EXPIRES_HOURS: '1',
        BULK_EXPORT_CHUNK_ROWS: '5000',
        BULK_EXPORT_MIN_POLL_SECONDS: '0',
        BULK_EXPORT_LEASE_SECONDS: '5',
      }).bulkExport,
    ).toEqual({ fileBytes: 16777216, expiresHours: 1, chunkRows: 5000, minPollSeconds: 0, leaseSeconds: 5 });
    let problems: string[] = [];
    try {
      loadConfig({
        BULK_EXPORT_FILE_BYTES: '100b',
        BULK_EXPORT_EXPIRES_HOURS: '0',
        BULK_EXPORT_CHUNK_ROWS: 'many',
        BULK_EXPORT_MIN_POLL_SECONDS: '-1',
        BULK_EXPORT_LEASE_SECONDS: '0',
      });
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'BULK_EXPORT_CHUNK_ROWS',
      'BULK_EXPORT_EXPIRES_HOURS',
      'BULK_EXPORT_FILE_BYTES',
      'BULK_EXPORT_LEASE_SECONDS',
      'BULK_EXPORT_MIN_POLL_SECONDS',
    ]);
  });

  it('notifications: no email without SMTP_URL, loopback refused, 24 h of retries, 120 s delivery leases, a week of events; each checked', () => {
    expect(loadConfig({}).notifications).toEqual({
      mailFrom: 'CCP Exchange <no-reply@localhost>',
      allowLoopback: false,
      bindingTokenSeconds: 300,
      retryHours: 24,
      deliveryLeaseSeconds: 120,
      eventsRetentionDays: 7,
      noticeReminderHours: 24,
      noticeRoundSeconds: 60,
    });
    const secret = 'a'.repeat(32);
    expect(
      loadConfig({
        SMTP_URL: 'smtps://mailer:pw@smtp.example.org:465',
        MAIL_FROM: 'CCP <ccp@example.org>',
        APP_URL: 'https://ccp.example.org/app/',
        SUBSCRIPTION_ALLOW_LOOPBACK: 'true',
        SUBSCRIPTION_WS_SECRET: secret,
        SUBSCRIPTION_BINDING_TOKEN_SECONDS: '60',
        SUBSCRIPTION_RETRY_HOURS: '2',
        SUBSCRIPTION_DELIVERY_LEASE_SECONDS: '5',
        SUBSCRIPTION_EVENTS_RETENTION_DAYS: '30',
        NOTICE_REMINDER_HOURS: '48',
        NOTICE_ROUND_INTERVAL: '30',
      }).notifications,
    ).toEqual({
      smtpUrl: 'smtps://mailer:pw@smtp.example.org:465',
      mailFrom: 'CCP <ccp@example.org>',
      appUrl: 'https://ccp.example.org/app',
      allowLoopback: true,
      bindingSecret: secret,
      bindingTokenSeconds: 60,
      retryHours: 2,
      deliveryLeaseSeconds: 5,
      eventsRetentionDays: 30,
      noticeReminderHours: 48,
      noticeRoundSeconds: 30,
    });
    let problems: string[] = [];
    try {
      loadConfig({
        NODE_ENV: 'production',
        SMTP_URL: 'mail.example.org',
        APP_URL: 'ftp://x',
        SUBSCRIPTION_ALLOW_LOOPBACK: 'true',
        SUBSCRIPTION_WS_SECRET: 'short',
        SUBSCRIPTION_RETRY_HOURS: '0',
        SUBSCRIPTION_DELIVERY_LEASE_SECONDS: '0',
      });
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'APP_URL',
      'SMTP_URL',
      'SUBSCRIPTION_ALLOW_LOOPBACK',
      'SUBSCRIPTION_DELIVERY_LEASE_SECONDS',
      'SUBSCRIPTION_RETRY_HOURS',
      'SUBSCRIPTION_WS_SECRET',
    ]);
    // A secret is never echoed back in a problem.
    expect(problems.join(' ')).not.toContain('short');
  });

  it('audit partitions: a round a day by default, paced by AUDIT_PARTITIONS_INTERVAL, checked', () => {
    expect(loadConfig({})).toMatchObject({ auditPartitionsIntervalSeconds: 86400 });
    expect(loadConfig({ AUDIT_PARTITIONS_INTERVAL: '3600' })).toMatchObject({ auditPartitionsIntervalSeconds: 3600 });
    expect(() => loadConfig({ AUDIT_PARTITIONS_INTERVAL: '0' })).toThrow(/AUDIT_PARTITIONS_INTERVAL/);
  });

  it('statistics upkeep: on every 60 s by default, switched off or paced by its variables, each checked', () => {
    expect(loadConfig({})).toMatchObject({ statisticsUpkeep: true, statisticsUpkeepIntervalSeconds: 60 });
    expect(loadConfig({ STATISTICS_UPKEEP: 'false', STATISTICS_UPKEEP_INTERVAL: '300' })).toMatchObject({ statisticsUpkeep: false, statisticsUpkeepIntervalSeconds: 300 });
    let problems: string[] = [];
    try {
      loadConfig({ STATISTICS_UPKEEP: 'sometimes', STATISTICS_UPKEEP_INTERVAL: '0' });
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual(['STATISTICS_UPKEEP', 'STATISTICS_UPKEEP_INTERVAL']);
  });

  it('MAX_JSON_DEPTH: 100 by default, 16 to 500', () => {
    expect(loadConfig({}).maxJsonDepth).toBe(100);
    expect(loadConfig({ MAX_JSON_DEPTH: '500' }).maxJsonDepth).toBe(500);
    for (const bad of ['15', '501', '64.5', 'deep']) {
      let problems: string[] = [];
      try {
        loadConfig({ MAX_JSON_DEPTH: bad });
      } catch (error) {
        problems = (error as ConfigError).problems;
      }
      expect(problems).toEqual([`MAX_JSON_DEPTH: must be an integer from 16 to 500 (got "${bad}")`]);
    }
  });

  it('requires access tokens unless AUTH_DISABLED=true, which production refuses', () => {
    expect(loadConfig({}).authDisabled).toBe(false);
    expect(loadConfig({ AUTH_DISABLED: 'true' }).authDisabled).toBe(true);
    expect(() => loadConfig({ AUTH_DISABLED: 'true', NODE_ENV: 'production' })).toThrow(/AUTH_DISABLED: may not be true when NODE_ENV=production/);
    expect(loadConfig({ AUTH_DISABLED: 'false', NODE_ENV: 'production' }).authDisabled).toBe(false);
  });

  it('reports every bad value at once, naming each variable', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', BASE_URL: 'not a url', BODY_LIMIT: 'huge', LOG_LEVEL: 'loud', ALLOW_UPDATE_CREATE: 'maybe' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'DATABASE_URL', 'BASE_URL', 'BODY_LIMIT', 'LOG_LEVEL', 'ALLOW_UPDATE_CREATE']) {
      expect(problems).toContain(`${name}:`);
    }
    expect((error as ConfigError).problems).toHaveLength(6);
  });

  it('APP_FRAME_ANCESTORS: none by default; space-separated http(s) origins; a path, a wildcard, a keyword or another scheme is named', () => {
    expect(loadConfig({}).appFrameAncestors).toEqual([]);
    expect(loadConfig({ APP_FRAME_ANCESTORS: ' https://ehr.example.org   http://localhost:3000 ' }).appFrameAncestors).toEqual(['https://ehr.example.org', 'http://localhost:3000']);
    for (const bad of ['https://ehr.example.org/chart', '*', "'self'", 'https://*.example.org', 'ftp://ehr.example.org', 'ehr.example.org', 'https://ehr.example.org/']) {
      let error: unknown;
      try {
        loadConfig({ APP_FRAME_ANCESTORS: `https://ok.example.org ${bad}` });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        `APP_FRAME_ANCESTORS: ${bad} is not an http or https origin (scheme://host[:port], no path), separated by spaces (got "https://ok.example.org ${bad}")`,
      ]);
    }
  });

  it('BASE_URL must be absolute http(s) without query', () => {
    expect(() => loadConfig({ BASE_URL: 'ftp://x/fhir' })).toThrow(ConfigError);
    expect(() => loadConfig({ BASE_URL: 'https://x/fhir?a=b' })).toThrow(ConfigError);
  });

  it('sizes: bytes, kb, mb, gb', () => {
    expect(parseByteSize('1048576')).toBe(1048576);
    expect(parseByteSize('512kb')).toBe(524288);
    expect(parseByteSize('1.5MB')).toBe(1572864);
    expect(typeof parseByteSize('0')).toBe('string');
    expect(typeof parseByteSize('ten')).toBe('string');
  });
});
