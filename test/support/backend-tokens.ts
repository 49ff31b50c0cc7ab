import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import request from 'supertest';
import type { AuthServer } from '../../server/auth/auth-server.js';
import type { Client } from '../../server/auth/clients.js';

/**
 * SMART Backend Services clients (private_key_jwt) and their access tokens, as a test gets them: a key pair, the
 * client registered with its public key, a signed client assertion exchanged at `/auth/token` for a token.
 */
export interface BackendKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function backendKey(): Promise<BackendKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid: randomUUID(), alg: 'ES384' } };
}

/** Registers a backend client allowed `scope`, authenticating with `key`. */
export async function registerBackend(auth: AuthServer, clientId: string, key: BackendKey, scope: string, extra: Partial<Client> = {}): Promise<void> {
  await auth.clients.save(backendClient(clientId, key, scope, extra));
}

/** A backend client allowed `scope`, authenticating with the public key of `key` (private_key_jwt). */
export function backendClient(clientId: string, key: Pick<BackendKey, 'publicJwk'>, scope: string, extra: Partial<Client> = {}): Client {
  return {
    clientId,
    name: clientId,
    kind: 'backend',
    authMethod: 'private_key_jwt',
    redirectUris: [],
    scope,
    jwks: { keys: [key.publicJwk] },
    active: true,
    source: 'api',
    ...extra,
  };
}

/** An access token for `scope`, by the client credentials grant with a client assertion signed by `key`. */
export async function backendToken(app: Express, tokenUrl: string, clientId: string, key: BackendKey, scope: string): Promise<string> {
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES384', kid: key.publicJwk.kid, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(tokenUrl)
    .setExpirationTime(Math.floor(Date.now() / 1000) + 240)
    .setJti(randomUUID())
    .sign(key.privateKey);
  const res = await request(app)
    .post('/auth/token')
    .type('form')
    .send({ grant_type: 'client_credentials', scope, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
  if (res.status !== 200) throw new Error(`no token for ${clientId}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token as string;
}
