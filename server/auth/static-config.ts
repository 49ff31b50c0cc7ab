import { accessChanged } from './auth-changes.js';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/config.js';
import { checkClientRegistration } from './admin/client-registration.js';
import type { AuthServer } from './auth-server.js';
import { type Client, ClientStore } from './clients.js';
import { type IdentityProviderConfig, identityProviderProblems } from './federation/identity-providers.js';
import { hashPassword } from './secrets.js';

type Env = Record<string, string | undefined>;

function readJsonList(file: string, what: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError([`${what} ${file}: ${error instanceof Error ? error.message : 'cannot be read'}`]);
  }
  if (!Array.isArray(parsed)) throw new ConfigError([`${what} ${file}: must hold a JSON array`]);
  return parsed;
}

/**
 * A secret named in a configuration file: `clientSecretEnv` names the environment variable holding it, so the
 * file itself holds no secret and can be kept in version control.
 */
function secretFrom(entry: Record<string, unknown>, env: Env, where: string, problems: string[]): string | undefined {
  const name = entry.clientSecretEnv;
  if (typeof name !== 'string' || !name) return undefined;
  const secret = env[name];
  if (!secret) problems.push(`${where}: environment variable ${name} (clientSecretEnv) is not set`);
  return secret;
}

/** IDENTITY_PROVIDERS_FILE: `[{ id, name, issuer, clientId, clientSecretEnv, scope? }]`. */
export function loadIdentityProviders(file: string, env: Env = process.env): IdentityProviderConfig[] {
  const problems: string[] = [];
  const providers = readJsonList(file, 'IDENTITY_PROVIDERS_FILE').map((entry, index) => {
    const value = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const withSecret = { ...value, clientSecret: value.clientSecret ?? secretFrom(value, env, `identity provider [${index}]`, problems) };
    problems.push(...identityProviderProblems(withSecret, index));
    return withSecret as unknown as IdentityProviderConfig;
  });
  if (problems.length) throw new ConfigError(problems.map((problem) => `IDENTITY_PROVIDERS_FILE: ${problem}`));
  return providers;
}

/**
 * CLIENTS_FILE: registrations as the admin API takes them, plus `clientSecretEnv` for secret-based clients. At
 * every start the file is the truth for the clients it made: they are written again, and those no longer in it
 * are deactivated. Clients registered through the admin API are left alone.
 */
export async function applyClientsFile(auth: AuthServer, file: string, env: Env = process.env): Promise<number> {
  const problems: string[] = [];
  const clients: Client[] = [];
  for (const [index, entry] of readJsonList(file, 'CLIENTS_FILE').entries()) {
    const where = `client [${index}]`;
    const { client, problems: found } = await checkClientRegistration(auth.db, entry, 'config');
    problems.push(...found.map((problem) => `${where}: ${problem}`));
    if (!client) continue;
    const secret = secretFrom(entry as Record<string, unknown>, env, where, problems);
    if (client.authMethod.startsWith('client_secret') && !secret) problems.push(`${where}: ${client.authMethod} needs clientSecretEnv`);
    const existing = await auth.clients.find(client.clientId);
    if (existing && existing.source !== 'config') problems.push(`${where}: ${client.clientId} is already registered through the admin API`);
    clients.push({ ...client, secretHash: secret ? await hashPassword(secret) : undefined });
  }
  if (problems.length) throw new ConfigError(problems.map((problem) => `CLIENTS_FILE: ${problem}`));
  // All or nothing: a file that cannot be applied whole changes nothing.
  await auth.db.transaction(async (tx) => {
    const store = new ClientStore(tx);
    for (const client of clients) await store.save(client);
    await tx.query(`UPDATE auth_client SET active = false WHERE source = 'config' AND NOT (client_id = ANY($1))`, [clients.map((client) => client.clientId)]);
    await accessChanged(tx);
  });
  return clients.length;
}
