import os from 'node:os';
import { parseArgs } from 'node:util';
import { BOOTSTRAP_CLIENT_ID, BOOTSTRAP_USERNAME } from './auth/bootstrap.js';
import { ResetRefused, resetAdministratorCredentials } from './auth/reset-credentials.js';
import { ConfigError, loadConfig } from './config/config.js';
import { loadRegistry } from './search/custom-parameters.js';
import { extractIndexRows } from './search/index/extract.js';
import { openDatabase } from './store/open.js';
import { SqlResourceStore } from './store/sql-resource-store.js';
import { SchemaValidator } from './validation/schema-validator.js';

const USAGE = `usage: npm run reset-admin [-- --password | --secret]
  new credentials for the first start's administrator account (${BOOTSTRAP_USERNAME}) and backend client (${BOOTSTRAP_CLIENT_ID}),
  printed once; --password resets only the password, --secret only the client secret.`;

/**
 * `npm run reset-admin`: for an operator who lost the first start's secrets. On the configured database
 * (DATABASE_URL, or the embedded one in DATA_DIR: refused while a server holds it, so stop the server first).
 * Exit 0 with the new secrets on stdout; 1 when it cannot reset (nothing changed); 2 on a usage error.
 */
async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ options: { password: { type: 'boolean' }, secret: { type: 'boolean' }, help: { type: 'boolean' } } }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const both = !values.password && !values.secret;
  const config = loadConfig();
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const { registry } = loadRegistry(config.searchParametersDir, new SchemaValidator());
    const user = os.userInfo().username;
    const reset = await resetAdministratorCredentials(db, (tx) => new SqlResourceStore(tx, (resource) => extractIndexRows(resource, registry)), {
      password: both || values.password === true,
      clientSecret: both || values.secret === true,
      operator: `system user ${user} on ${os.hostname()}`,
    });
    console.log(
      [
        `New credentials (shown once, stored only as hashes; recorded as ${reset.auditEventIds.map((id) => `AuditEvent/${id}`).join(' and ')}):`,
        ...(reset.password ? [`  administrator:  username ${BOOTSTRAP_USERNAME}   password ${reset.password}`] : []),
        ...(reset.clientSecret ? [`  backend client: client_id ${BOOTSTRAP_CLIENT_ID}   client_secret ${reset.clientSecret}`] : []),
        ...(reset.password ? [`  export ADMIN_PASSWORD='${reset.password}'`] : []),
        ...(reset.clientSecret ? [`  export LOCAL_ADMIN_SECRET='${reset.clientSecret}'`] : []),
        ...(reset.password ? [`The old password no longer works; ${BOOTSTRAP_USERNAME}'s sessions, tokens and unused codes were ended.`] : []),
        ...(reset.clientSecret ? [`The old client secret no longer works; ${BOOTSTRAP_CLIENT_ID}'s tokens were revoked.`] : []),
        ...(reset.accountInactive ? [`Note: the account ${BOOTSTRAP_USERNAME} is deactivated; a new password does not reactivate it (PATCH /auth/admin/users/{id} with {"active": true}).`] : []),
      ].join('\n'),
    );
    return 0;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) console.error(error.message);
    else if (error instanceof ResetRefused) console.error(`reset-admin: ${error.message}; nothing was changed`);
    else console.error(`reset-admin failed, nothing was changed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(error instanceof ConfigError ? 2 : 1);
  },
);
