import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { migratedDataDir } from '../support/data-dir.js';
import { freePort, startServerProcess, type ServerProcess } from '../support/server-process.js';

/**
 * A backend client's public keys (SMART Backend Services, RFC 7523 `private_key_jwt`), registered through the admin
 * API of a real server process: inline (`jwks`) or at a URL (`jwks_uri`) served here by a real HTTP server, which
 * also plays the ways such a URL fails: nobody listening, HTTP 500, an answer that is not JSON, JSON that is not a
 * key set. Each failure must say so to the client and in the server's log.
 */

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('backend client keys, inline and at a jwks_uri (real server process, real key set server)', () => {
  const dataDir = migratedDataDir(mkdtempSync(path.join(os.tmpdir(), 'ccp-client-keys-')));
  let server: ServerProcess;
  let keyServer: http.Server;
  let keyOrigin: string;
  let adminToken: string;
  let privateKey: CryptoKey;
  let publicJwk: JWK;
  const assertions: string[] = [];

  beforeAll(async () => {
    ({ privateKey } = await generateKeyPair('ES384', { extractable: true }).then(async (pair) => {
      publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k-1', alg: 'ES384', use: 'sig' };
      return pair;
    }));
    keyServer = http.createServer((req, res) => {
      if (req.url === '/good.json') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] }));
      if (req.url === '/broken.json') return void res.writeHead(500, { 'Content-Type': 'text/plain' }).end('internal error');
      if (req.url === '/junk.json') return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>hello</html>');
      if (req.url === '/not-a-key-set.json') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"hello":"world"}');
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
    keyOrigin = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}`;

    server = startServerProcess('client-keys', await freePort(), { DATA_DIR: dataDir, AUTH_DISABLED: 'false' });
    await server.ready(90_000);
    const secret = /client_id local-admin\s+client_secret (\S+)/.exec(server.output())?.[1];
    expect(secret).toBeDefined();
    const token = await fetch(`${server.origin}/auth/token`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`local-admin:${secret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=admin',
    });
    expect(token.status).toBe(200);
    adminToken = ((await token.json()) as { access_token: string }).access_token;
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await new Promise((resolve) => keyServer?.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function register(clientId: string, keys: { jwks: { keys: JWK[] } } | { jwks_uri: string }): Promise<void> {
    const res = await fetch(`${server.origin}/auth/admin/clients`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_id: clientId, client_name: clientId, kind: 'backend', token_endpoint_auth_method: 'private_key_jwt', scope: 'system/Patient.rs', ...keys }),
    });
    expect([res.status, await res.text()]).toEqual([201, expect.any(String)]);
  }

  async function tokenFor(clientId: string): Promise<{ status: number; body: Record<string, string> }> {
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES384', kid: 'k-1', typ: 'JWT' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(`${server.origin}/auth/token`)
      .setExpirationTime(Math.floor(Date.now() / 1000) + 240)
      .setJti(randomUUID())
      .sign(privateKey);
    assertions.push(assertion);
    const res = await fetch(`${server.origin}/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'system/Patient.rs', client_assertion_type: JWT_BEARER, client_assertion: assertion }).toString(),
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  }

  /** The server's log lines that match, once there are any: its output reaches this process a little after its answers. */
  async function logLines(matches: (line: string) => boolean): Promise<string[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = server.output().split('\n').filter(matches);
      if (found.length || Date.now() > deadline) return found;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('a client registered with an inline JWKS (the admin API\'s jwks field) gets a token that works', async () => {
    await register('inline-keys', { jwks: { keys: [publicJwk] } });
    const issued = await tokenFor('inline-keys');
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ token_type: 'bearer', expires_in: 300, scope: 'system/Patient.rs' });
    const patients = await fetch(`${server.fhir}/Patient`, { headers: { Authorization: `Bearer ${issued.body.access_token}` } });
    expect(patients.status).toBe(200);
  });

  it('a client whose jwks_uri answers its key set gets a token', async () => {
    await register('uri-keys', { jwks_uri: `${keyOrigin}/good.json` });
    const issued = await tokenFor('uri-keys');
    expect(issued.status).toBe(200);
    expect(issued.body.scope).toBe('system/Patient.rs');
  });

  it.each([
    ['nobody listens at it', 'down', async () => `http://127.0.0.1:${await freePort()}/keys.json`, /cannot be reached \(ECONNREFUSED\)/],
    ['it answers HTTP 500', 'status', async () => `${keyOrigin}/broken.json`, /answered HTTP 500, not 200/],
    ['it answers something that is not JSON', 'junk', async () => `${keyOrigin}/junk.json`, /answered something that is not JSON/],
    ['it answers JSON that is not a key set', 'shape', async () => `${keyOrigin}/not-a-key-set.json`, /answered JSON that is not a JSON Web Key Set/],
  ])('when %s, the token error and the server log say the keys could not be fetched, and why', async (_case, name, url, reason) => {
    const jwksUri = await url();
    await register(`failing-${name}`, { jwks_uri: jwksUri });
    const refused = await tokenFor(`failing-${name}`);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
    expect(refused.body.error_description).toContain(`the client's keys could not be fetched: its jwks_uri ${jwksUri}`);
    expect(refused.body.error_description).toMatch(reason);
    expect(refused.body.error_description).not.toMatch(/cannot be verified/);

    const logged = await logLines((line) => line.includes('"msg":"client key set could not be fetched"') && line.includes(`"clientId":"failing-${name}"`));
    expect(logged).toHaveLength(1);
    const entry = JSON.parse(logged[0]) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 40, jwksUri, reason: expect.stringMatching(reason) });
  });

  it('the log holds no assertion and no access token', () => {
    const log = server.output();
    expect(assertions.length).toBeGreaterThan(4);
    for (const assertion of assertions) expect(log).not.toContain(assertion.split('.')[2]);
    expect(log).not.toContain(adminToken);
  });
});
