import type { Database } from '../../store/database.js';
import type { Client, ClientStore } from '../clients.js';
import { OAuthError } from '../oauth-error.js';
import { verifyPassword } from '../secrets.js';
import { checkClientAssertion, JWT_BEARER_ASSERTION } from './check-client-assertion.js';

export interface ClientCredentials {
  form: Record<string, string>;
  /** The Authorization header, for client_secret_basic. */
  authorization?: string;
  /** Our token endpoint's URL: the audience a client assertion must name. */
  tokenEndpoint: string;
}

/**
 * Who is calling the token endpoint (RFC 6749 §2.3): exactly one way of authenticating, the one the client is
 * registered for. A public client only names itself; it proves nothing and gets nothing a secret would.
 */
export async function authenticateClient(db: Database, clients: ClientStore, request: ClientCredentials): Promise<Client> {
  const { form } = request;
  const basic = /^Basic\s+(.+)$/i.exec(request.authorization ?? '')?.[1];
  const ways = [form.client_assertion !== undefined, basic !== undefined, form.client_secret !== undefined].filter(Boolean).length;
  if (ways > 1) throw new OAuthError('invalid_request', 'use exactly one client authentication method');

  if (form.client_assertion !== undefined) {
    if (form.client_assertion_type !== JWT_BEARER_ASSERTION) throw new OAuthError('invalid_client', `client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
    const client = await checkClientAssertion(db, form.client_assertion, request.tokenEndpoint, (id) => clients.find(id));
    if (form.client_id !== undefined && form.client_id !== client.clientId) throw new OAuthError('invalid_client', 'client_id does not match the client assertion');
    return client;
  }
  if (basic !== undefined) {
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new OAuthError('invalid_client', 'malformed Basic credentials');
    // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
    const id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
    const secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
    return withSecret(await clients.find(id), secret, 'client_secret_basic');
  }
  if (form.client_secret !== undefined) return withSecret(form.client_id ? await clients.find(form.client_id) : undefined, form.client_secret, 'client_secret_post');

  const client = form.client_id ? await clients.find(form.client_id) : undefined;
  if (!client || !client.active) throw new OAuthError('invalid_client', 'unknown client');
  if (client.authMethod !== 'none') throw new OAuthError('invalid_client', `this client must authenticate (${client.authMethod})`);
  return client;
}

async function withSecret(client: Client | undefined, secret: string, method: 'client_secret_basic' | 'client_secret_post'): Promise<Client> {
  const matches = client?.secretHash ? await verifyPassword(secret, client.secretHash) : false;
  if (!client || !client.active || !matches) throw new OAuthError('invalid_client', 'unknown client or wrong secret');
  if (client.authMethod !== method) throw new OAuthError('invalid_client', `this client is registered for ${client.authMethod}`);
  return client;
}
