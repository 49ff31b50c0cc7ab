import { decodeJwt, errors, jwtVerify } from 'jose';
import type { Database } from '../../store/database.js';
import type { Client } from '../clients.js';
import { OAuthError } from '../oauth-error.js';
import { keySetFailure, keysOf } from './client-keys.js';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** SMART Backend Services: servers must accept RS384 and ES384; nothing else is accepted (no `none`, no HMAC). */
export const ASSERTION_ALGORITHMS = ['RS384', 'ES384'];

/** An assertion may not claim to live longer than this (SMART: `exp` no more than five minutes ahead). */
const MAX_LIFETIME_SECONDS = 300;

/**
 * `private_key_jwt` (RFC 7523, SMART Backend Services): the assertion's issuer and subject are the client, its
 * audience is our token endpoint, it is signed by one of the client's keys with RS384 or ES384, it expires within
 * five minutes, and its `jti` was never used before. Returns the client.
 */
export async function checkClientAssertion(
  db: Database,
  assertion: string,
  tokenEndpoint: string,
  findClient: (clientId: string) => Promise<Client | undefined>,
): Promise<Client> {
  let issuer: string | undefined;
  try {
    issuer = decodeJwt(assertion).iss;
  } catch {
    throw new OAuthError('invalid_client', 'client_assertion is not a JWT');
  }
  const client = issuer ? await findClient(issuer) : undefined;
  if (!client || !client.active || client.authMethod !== 'private_key_jwt') {
    throw new OAuthError('invalid_client', 'client_assertion: unknown client, or not registered for private_key_jwt');
  }

  let payload;
  try {
    ({ payload } = await jwtVerify(assertion, keysOf(client), {
      algorithms: ASSERTION_ALGORITHMS,
      issuer: client.clientId,
      subject: client.clientId,
      audience: tokenEndpoint,
      requiredClaims: ['exp', 'jti'],
      clockTolerance: 30,
    }));
  } catch (error) {
    throw keySetFailure(client, error) ?? new OAuthError('invalid_client', `client_assertion: ${describe(error)}`);
  }
  const now = Math.floor(Date.now() / 1000);
  if (payload.exp! > now + MAX_LIFETIME_SECONDS + 30) throw new OAuthError('invalid_client', 'client_assertion: exp is more than five minutes ahead');

  // The jti is remembered until the assertion expires; a second use is a replay.
  await db.query('DELETE FROM auth_assertion WHERE expires_at < now()');
  const fresh = await db.query(
    `INSERT INTO auth_assertion (client_id, jti, expires_at) VALUES ($1, $2, to_timestamp($3))
     ON CONFLICT (client_id, jti) DO NOTHING RETURNING jti`,
    [client.clientId, payload.jti, payload.exp! + 30],
  );
  if (!fresh.length) throw new OAuthError('invalid_client', 'client_assertion: this jti was already used');
  return client;
}

/** What was wrong, in words that help the client's developer and reveal no key material. */
function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `claim ${error.claim} is not what it must be (${error.reason})`;
  if (error instanceof errors.JOSEAlgNotAllowed) return `alg must be one of ${ASSERTION_ALGORITHMS.join(', ')}`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no registered key matches its kid and alg';
  if (error instanceof errors.JOSEError) return error.code;
  return 'cannot be verified';
}
