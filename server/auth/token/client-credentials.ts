import { randomUUID } from 'node:crypto';
import { grantable, parseResourceScope, SERVICE_SCOPES, splitScopes } from '../../access/scopes.js';
import type { Database } from '../../store/database.js';
import type { Client } from '../clients.js';
import { OAuthError } from '../oauth-error.js';
import { ACCESS_TOKEN_SECONDS, issueToken } from '../tokens.js';
import type { TokenResponse } from './token-response.js';

/**
 * SMART Backend Services (`grant_type=client_credentials`): a backend client gets the `system/` scopes (and our
 * service scopes) it asked for and is registered for; no refresh token, a five-minute access token.
 */
export async function clientCredentials(db: Database, client: Client, form: Record<string, string>): Promise<TokenResponse> {
  if (client.kind !== 'backend') throw new OAuthError('unauthorized_client', 'only backend clients may use client_credentials');
  const requested = splitScopes(form.scope);
  if (!requested.length) throw new OAuthError('invalid_scope', 'scope is required (system/ scopes, e.g. system/CarePlan.rs)');
  const notSystem = requested.find((text) => parseResourceScope(text)?.context !== 'system' && !(SERVICE_SCOPES as readonly string[]).includes(text));
  if (notSystem) throw new OAuthError('invalid_scope', `client_credentials grants system/ scopes (and ${SERVICE_SCOPES.join(', ')}) only, not ${notSystem}`);
  const granted = grantable(requested, splitScopes(client.scope));
  if (!granted.length) throw new OAuthError('invalid_scope', 'none of the requested scopes is registered for this client');

  const scope = granted.join(' ');
  const accessToken = await issueToken(db, 'access', { grantId: randomUUID(), clientId: client.clientId, scope, context: {} }, ACCESS_TOKEN_SECONDS.backend);
  return { access_token: accessToken, token_type: 'bearer', expires_in: ACCESS_TOKEN_SECONDS.backend, scope };
}
