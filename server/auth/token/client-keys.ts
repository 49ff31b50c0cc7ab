import { createLocalJWKSet, createRemoteJWKSet, customFetch, errors, type JWTVerifyGetKey } from 'jose';
import type { Client } from '../clients.js';
import { LoggedOAuthError, OAuthError } from '../oauth-error.js';

/** How long a client's JWKS URL has to answer. */
const FETCH_TIMEOUT_MS = 5000;

/** Why a client's JWKS URL gave no key set: said to the client's developer and logged for the operator. */
class KeySetUnavailable extends Error {}

const remoteKeySets = new Map<string, JWTVerifyGetKey>();

/** The client's keys: registered inline, or fetched (and cached, refetched on an unknown `kid`) from its JWKS URL. */
export function keysOf(client: Client): JWTVerifyGetKey {
  if (client.jwks) return createLocalJWKSet(client.jwks);
  if (client.jwksUri) {
    let keySet = remoteKeySets.get(client.jwksUri);
    if (!keySet) {
      keySet = createRemoteJWKSet(new URL(client.jwksUri), { timeoutDuration: FETCH_TIMEOUT_MS, cooldownDuration: 30_000, [customFetch]: fetchKeySet });
      remoteKeySets.set(client.jwksUri, keySet);
    }
    return keySet;
  }
  throw new OAuthError('invalid_client', 'the client has no registered keys');
}

/**
 * jose's fetch, with each way it can fail told apart: jose itself says only "Expected 200 OK" or "Failed to
 * parse", and a refused connection reaches it as a bare `fetch failed`.
 */
async function fetchKeySet(url: string, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    // jose turns its own timeout into JWKSTimeout.
    if (error instanceof Error && error.name === 'TimeoutError') throw error;
    throw new KeySetUnavailable(`cannot be reached (${networkCause(error)})`);
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new KeySetUnavailable(`answered HTTP ${response.status}, not 200`);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KeySetUnavailable('answered something that is not JSON');
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.some((key) => typeof key !== 'object' || key === null)) {
    throw new KeySetUnavailable('answered JSON that is not a JSON Web Key Set ({"keys": [...]})');
  }
  return new Response(text, { status: 200, headers: { 'Content-Type': 'application/json' } });
}

/** The system's word for a failed connection (ECONNREFUSED, ENOTFOUND, …), found in the error's causes. */
function networkCause(error: unknown): string {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return error instanceof Error ? error.message : 'network error';
}

/**
 * The OAuth error for a key set that could not be fetched, or undefined when `error` is about something else.
 * The client's developer reads why; the operator's log gets the client, the URL (without query or credentials)
 * and the same reason.
 */
export function keySetFailure(client: Client, error: unknown): OAuthError | undefined {
  if (!client.jwksUri) return undefined;
  let reason: string;
  if (error instanceof KeySetUnavailable) reason = error.message;
  else if (error instanceof errors.JWKSTimeout) reason = `did not answer within ${FETCH_TIMEOUT_MS / 1000} s`;
  else if (error instanceof errors.JWKSInvalid) reason = `answered a malformed JSON Web Key Set`;
  else return undefined;
  const url = new URL(client.jwksUri);
  url.username = url.password = url.search = '';
  return new LoggedOAuthError('invalid_client', `client_assertion: the client's keys could not be fetched: its jwks_uri ${url} ${reason}`, {
    message: 'client key set could not be fetched',
    fields: { clientId: client.clientId, jwksUri: url.toString(), reason },
  });
}
