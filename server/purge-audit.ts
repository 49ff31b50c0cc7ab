import { purgeAuditTrail } from './audit/purge.js';
import { ConfigError, loadConfig } from './config/config.js';
import { openDatabase } from './store/open.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * `npm run purge-audit`: removes the AuditEvents older than AUDIT_RETENTION_DAYS (with their chain links; the
 * chain keeps verifying from the last removed link), on the configured database. Without AUDIT_RETENTION_DAYS the
 * trail is kept forever and nothing is removed. Safe while the server runs on PostgreSQL (the
 * embedded database serves one process: refused while a server holds DATA_DIR); run it daily, e.g. from cron.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (config.auditRetentionDays === undefined) {
    console.log('AUDIT_RETENTION_DAYS is not set: audit records are kept forever, nothing to purge');
    return;
  }
  const cutoff = new Date(Date.now() - config.auditRetentionDays * DAY_MS);
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const purged = await purgeAuditTrail(db, cutoff, (done) => process.stdout.write(`\rpurged ${done} audit events`));
    console.log(`\rpurged ${purged} audit events stored before ${cutoff.toISOString()} (retention ${config.auditRetentionDays} days)`);
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : `purge-audit failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
