import { randomUUID } from 'node:crypto';
import type { Practitioner, PractitionerRole } from 'fhir/r4';
import { ROLE_SYSTEM } from '../access/roles.js';
import type { ResourceStore } from '../store/resource-store.js';
import type { AuthServer } from './auth-server.js';
import { hashPassword, randomSecret } from './secrets.js';
import { ACCESS_TOKEN_SECONDS } from './tokens.js';
import { appUrl } from './app-client.js';

export interface BootstrapCredentials {
  username: string;
  password: string;
  clientId: string;
  clientSecret: string;
}

/** The first start's accounts: `npm run reset-admin` finds them by these names. */
export const BOOTSTRAP_USERNAME = 'admin';
export const BOOTSTRAP_CLIENT_ID = 'local-admin';

/** Any constant works; every process sharing the database uses the same one. */
const BOOTSTRAP_LOCK = 7_041_905_823;

/**
 * The first start on an empty database: an administrator account and a backend client for local use, so a
 * server that requires tokens can be used at all. Returns their credentials (the only copy: only hashes are
 * stored) the one time they are made; undefined on every later start, or when accounts or clients exist.
 */
export async function bootstrap(auth: AuthServer, store: ResourceStore): Promise<BootstrapCredentials | undefined> {
  const isEmpty = async (db: AuthServer['db']) => !(await db.query('SELECT 1 FROM auth_user UNION ALL SELECT 1 FROM auth_client LIMIT 1')).length;
  if (!(await isEmpty(auth.db))) return undefined;

  const admin: Practitioner = { resourceType: 'Practitioner', active: true, name: [{ text: 'Administrator' }] };
  const practitioner = await store.create(admin);
  const administrator: PractitionerRole = {
    resourceType: 'PractitionerRole',
    active: true,
    practitioner: { reference: `Practitioner/${practitioner.id}` },
    code: [{ coding: [{ system: ROLE_SYSTEM, code: 'administrator', display: 'Administrator' }] }],
  };
  const role = await store.create(administrator);
  const credentials: BootstrapCredentials = { username: BOOTSTRAP_USERNAME, password: newPassword(), clientId: BOOTSTRAP_CLIENT_ID, clientSecret: randomSecret() };
  const passwordHash = await hashPassword(credentials.password);
  const secretHash = await hashPassword(credentials.clientSecret);

  const made = await auth.db.transaction(async (tx) => {
    // Two processes starting at once on an empty database: the first one here makes the accounts.
    await tx.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK]);
    if (!(await isEmpty(tx))) return false;
    await tx.query('INSERT INTO auth_user (id, username, password_hash, practitioner_role_id) VALUES ($1, $2, $3, $4)', [
      randomUUID(),
      credentials.username,
      passwordHash,
      role.id,
    ]);
    await tx.query(
      `INSERT INTO auth_client (client_id, name, kind, auth_method, secret_hash, scope, source)
       VALUES ($1, 'Local administration (bootstrap)', 'backend', 'client_secret_basic', $2, 'system/*.cruds admin ehr-launch', 'api')`,
      [credentials.clientId, secretHash],
    );
    return true;
  });
  if (made) return credentials;
  await store.delete('PractitionerRole', role.id!);
  await store.delete('Practitioner', practitioner.id!);
  return undefined;
}

/** An administrator password as the first start makes one: 20 random URL-safe characters. */
export function newPassword(): string {
  return randomSecret().slice(0, 20);
}

/** What the operator is told once: how to sign in, and how to get and use a token (and for how long it works). */
export function bootstrapMessage(credentials: BootstrapCredentials, root: string): string {
  const minutes = ACCESS_TOKEN_SECONDS.backend / 60;
  // The token helper's default server is http://localhost:8080: named only when this one is elsewhere.
  const url = root === 'http://localhost:8080' ? '' : ` --url ${root}`;
  return [
    '',
    '=== First start: an administrator account and a local backend client were created. ===',
    'These secrets are shown once and stored only as hashes: keep them now (lost: npm run reset-admin).',
    `  administrator:  username ${credentials.username}   password ${credentials.password}`,
    `  backend client: client_id ${credentials.clientId}   client_secret ${credentials.clientSecret}`,
    `The app: open ${appUrl(root)} and sign in as ${credentials.username}.`,
    `Get an access token (it lasts ${minutes} minutes: get a new one then; \`admin\` in the scope opens the admin API) and use it,`,
    'from this repository (the helper prints only the token, or says on stderr why there is none):',
    `  export LOCAL_ADMIN_SECRET='${credentials.clientSecret}'`,
    `  TOKEN=$(npm run -s token -- --client ${credentials.clientId} --secret="$LOCAL_ADMIN_SECRET" --scope 'system/*.cruds admin'${url})`,
    `  curl -H "Authorization: Bearer $TOKEN" ${root}/fhir/Patient`,
    'or with curl alone (the answer is JSON: its access_token is the token, or its error_description says why not):',
    `  curl -s -u "${credentials.clientId}:$LOCAL_ADMIN_SECRET" -d grant_type=client_credentials -d scope='system/*.cruds admin' ${root}/auth/token`,
    '',
  ].join('\n');
}
