import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AuditEvent, Bundle } from 'fhir/r4';
import { childEnv, freePort, PROJECT_ROOT, startServerProcess, type ServerProcess } from '../support/server-process.js';
import { authorizeThrough, authorizeUrl, Browser, exchangeCode, location, pageTitle, pkce } from '../support/smart-flow.js';

/**
 * The first start on an empty database, as `npm start` runs it (a real server process): the banner with the
 * administrator's and the local backend client's secrets, and the commands it prints, run as printed; then
 * `npm run reset-admin` (`node dist/server/reset-admin.js`, built by jest's global setup) for an operator who lost them.
 */
/**
 * A command run to its end without blocking the event loop (spawnSync would: the server's keep-alive timeout then
 * closes a pooled connection that fetch, not having seen it close, reuses: "other side closed").
 */
function runCommand(command: string, args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('first start: the banner and its commands', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ccp-first-start-'));
  let server: ServerProcess;
  let banner: string;

  beforeAll(async () => {
    port = await freePort();
    server = startServerProcess('first-start', port, { DATA_DIR: dataDir, AUTH_DISABLED: 'false' });
    await server.ready(90_000);
    banner = server.output();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  let port: number;
  const restart = async () => {
    await server.stop();
    server = startServerProcess('after-reset', port, { DATA_DIR: dataDir, AUTH_DISABLED: 'false' });
    await server.ready(90_000);
  };
  const resetAdmin = (...args: string[]) =>
    runCommand(process.execPath, [path.join(PROJECT_ROOT, 'dist/server/reset-admin.js'), ...args], { DATA_DIR: dataDir });
  const clientToken = async (secret: string, scope = 'system/*.cruds admin') => {
    const res = await fetch(`${server.origin}/auth/token`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`local-admin:${secret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };
  const statusOf = async (route: string, token: string) => (await fetch(`${server.origin}${route}`, { headers: { Authorization: `Bearer ${token}` } })).status;
  /** The administrator's token through the console app: the real sign-in, Terms of Use and approval pages. */
  const adminUserToken = async (browser: Browser, password: string) => {
    const { verifier, challenge } = pkce();
    const back = await authorizeThrough(browser, { client_id: 'console', scope: 'openid fhirUser admin', aud: server.fhir, state: 'st', code_challenge: challenge }, { username: 'admin', password });
    const exchanged = await exchangeCode({ app: server.origin }, { code: back.searchParams.get('code')!, code_verifier: verifier, client_id: 'console' });
    expect(exchanged.status).toBe(200);
    return exchanged.body.access_token as string;
  };
  /** Where a browser's authorization lands first: the sign-in page, or past it when its session still counts. */
  const firstPage = async (browser: Browser) => {
    const { challenge } = pkce();
    const started = await browser.get(authorizeUrl({ client_id: 'console', scope: 'openid fhirUser admin', aud: server.fhir, state: 'st', code_challenge: challenge }));
    return pageTitle(await browser.get(location(started)));
  };
  const secretsOf = (stdout: string) => ({
    password: /username admin\s+password (\S+)/.exec(stdout)?.[1],
    secret: /client_id local-admin\s+client_secret (\S+)/.exec(stdout)?.[1],
  });

  /** Runs `lines` with bash, as a user pasting them would (in the repository's folder). */
  const bash = (lines: string) => runCommand('bash', ['-c', lines], {});

  it('says how long the token lasts and gets it with the token helper, the secret kept in one exported variable', () => {
    expect(banner).toContain('it lasts 5 minutes');
    expect(banner).toMatch(/^ {2}export LOCAL_ADMIN_SECRET='[A-Za-z0-9_-]{43}'$/m);
    expect(banner).toContain(`TOKEN=$(npm run -s token -- --client local-admin --secret="$LOCAL_ADMIN_SECRET" --scope 'system/*.cruds admin' --url ${server.origin})`);
    // The line other tools read the secret from is kept as it was.
    expect(banner).toMatch(/client_id local-admin\s+client_secret [A-Za-z0-9_-]{43}/);
  });

  it('its token helper lines, run as printed, get a token that opens the FHIR API; with a wrong secret $TOKEN stays empty', async () => {
    const exported = /^ {2}(export LOCAL_ADMIN_SECRET=.*)$/m.exec(banner)![1];
    const helper = /^ {2}(TOKEN=\$\(npm run -s token .*\))$/m.exec(banner)![1];
    const use = /^ {2}(curl -H "Authorization: Bearer \$TOKEN" .*)$/m.exec(banner)![1];
    const run = await bash(`${exported}\n${helper}\n${use} -s -o /dev/null -w '%{http_code}'`);
    expect([run.status, run.stdout]).toEqual([0, '200']);

    const wrong = await bash(`LOCAL_ADMIN_SECRET=not-the-secret\n${helper}\necho "[$TOKEN]"`);
    expect(wrong.stdout).toBe('[]\n');
    expect(wrong.stderr).toMatch(/invalid_client/);
  });

  it('its curl command, run as printed, answers a token of that lifetime that opens the FHIR API and the admin API', async () => {
    const exported = /^ {2}(export LOCAL_ADMIN_SECRET=.*)$/m.exec(banner)![1];
    const curl = /^ {2}(curl -s -u .*\/auth\/token)$/m.exec(banner)![1];
    const run = await bash(`${exported}\n${curl}`);
    expect(run.status).toBe(0);
    const answer = JSON.parse(run.stdout) as { access_token: string; expires_in: number; scope: string };
    expect(answer).toMatchObject({ token_type: 'bearer', expires_in: 5 * 60, scope: 'system/*.cruds admin' });

    const use = /^ {2}(curl -H "Authorization: Bearer \$TOKEN" .*)$/m.exec(banner)![1];
    const fhir = await bash(`TOKEN='${answer.access_token}'\n${use} -s -o /dev/null -w '%{http_code}'`);
    expect(fhir.stdout).toBe('200');
    const admin = await bash(`curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer ${answer.access_token}' ${server.origin}/auth/admin/clients`);
    expect(admin.stdout).toBe('200');

    // A wrong secret: the answer says so, and holds no token.
    const wrong = JSON.parse((await bash(`LOCAL_ADMIN_SECRET=not-the-secret\n${curl}`)).stdout) as Record<string, string>;
    expect(wrong).toEqual({ error: 'invalid_client', error_description: 'unknown client or wrong secret' });
  });

  it("names the app and the account to sign in with, and has registered the app as a public client of this origin", async () => {
    expect(banner).toContain(`The app: open http://127.0.0.1:${port}/app/ and sign in as admin.`);
    const token = (await clientToken(secretsOf(banner).secret!, 'admin')).body.access_token;
    const clients = (await (await fetch(`${server.origin}/auth/admin/clients`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { client_id: string; kind: string; redirect_uris: string[] }[];
    expect(clients.map((client) => [client.client_id, client.kind])).toEqual([
      ['ccp-app', 'public'],
      ['local-admin', 'backend'],
    ]);
    expect(clients[0].redirect_uris).toEqual([`http://localhost:${port}/app/`, `http://127.0.0.1:${port}/app/`, `http://[::1]:${port}/app/`]);
  });

  describe('npm run reset-admin', () => {
    let first: { password: string; secret: string };
    let reset: { password: string; secret: string };

    it('is refused while the server holds DATA_DIR, naming the holder, and changes nothing', async () => {
      first = secretsOf(banner) as { password: string; secret: string };
      const refused = await resetAdmin();
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/is in use by process \d+/);
      expect(refused.stdout).toBe('');
      expect((await clientToken(first.secret)).status).toBe(200);
    }, 60_000);

    it('prints a new password and secret once; the old ones, and the tokens and sessions they gave, stop working', async () => {
      // What the old credentials gave: a backend token, and the administrator's session and user token.
      const oldClientToken = (await clientToken(first.secret)).body.access_token;
      const registered = await fetch(`${server.origin}/auth/admin/clients`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${oldClientToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ client_id: 'console', client_name: 'Console', kind: 'public', token_endpoint_auth_method: 'none', redirect_uris: ['https://app.test/callback'], scope: 'openid fhirUser admin' }),
      });
      expect(registered.status).toBe(201);
      const browser = new Browser({ app: server.origin });
      const oldUserToken = await adminUserToken(browser, first.password);
      expect(await statusOf('/auth/admin/clients', oldUserToken)).toBe(200);
      expect(await firstPage(browser)).not.toBe('Sign in');

      await server.stop();
      const run = await resetAdmin();
      expect(run.status).toBe(0);
      reset = secretsOf(run.stdout) as { password: string; secret: string };
      expect(reset.password).toMatch(/^[A-Za-z0-9_-]{20}$/);
      expect(reset.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(run.stdout).toContain(`export ADMIN_PASSWORD='${reset.password}'`);
      expect(run.stdout).toContain(`export LOCAL_ADMIN_SECRET='${reset.secret}'`);
      await restart();

      expect(await statusOf('/fhir/Patient', oldClientToken)).toBe(401);
      expect(await statusOf('/auth/admin/clients', oldUserToken)).toBe(401);
      expect(await clientToken(first.secret)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
      const fresh = await clientToken(reset.secret);
      expect(fresh.status).toBe(200);
      expect(await statusOf('/auth/admin/clients', fresh.body.access_token)).toBe(200);

      // The old session no longer skips the sign-in; the old password is refused there (the page again, 400), the new one works.
      expect(await firstPage(browser)).toBe('Sign in');
      await expect(adminUserToken(new Browser({ app: server.origin }), first.password)).rejects.toThrow('got 400: Sign in');
      expect(await statusOf('/auth/admin/clients', await adminUserToken(new Browser({ app: server.origin }), reset.password))).toBe(200);

      // Recorded: who (the command, run by a system user), whose credentials, by id; never a secret.
      const found = await fetch(`${server.fhir}/AuditEvent?subtype=${encodeURIComponent('http://dicom.nema.org/resources/ontology/DCM|110137')}`, { headers: { Authorization: `Bearer ${fresh.body.access_token}` } });
      const events = ((await found.json()) as Bundle).entry!.map((entry) => entry.resource as AuditEvent);
      expect(events).toHaveLength(2);
      for (const event of events) {
        expect(run.stdout).toContain(`AuditEvent/${event.id}`);
        expect(event).toMatchObject({ type: { code: '110113' }, action: 'U', outcome: '0' });
        expect(event.agent[0].who?.display).toMatch(/^CCP Exchange reset-admin command, run by system user \S+ on \S+$/);
      }
      expect(events.map((event) => event.entity![0].description).sort()).toEqual(['client secret reset', 'password reset']);
      expect(events.map((event) => event.entity![0].what?.identifier?.value)).toContain('local-admin');
      const text = JSON.stringify(events);
      for (const secret of [first.password, first.secret, reset.password, reset.secret]) expect(text).not.toContain(secret);
      const verified = await fetch(`${server.fhir}/AuditEvent/$verify`, { headers: { Authorization: `Bearer ${fresh.body.access_token}` } });
      expect(JSON.stringify(await verified.json())).toContain('The audit chain verifies');
    }, 300_000);

    it('--password resets only the password, --secret only the client secret', async () => {
      await server.stop();
      const passwordOnly = await resetAdmin('--password');
      expect(passwordOnly.status).toBe(0);
      expect(secretsOf(passwordOnly.stdout)).toEqual({ password: expect.any(String), secret: undefined });
      const secretOnly = await resetAdmin('--secret');
      expect(secretOnly.status).toBe(0);
      expect(secretsOf(secretOnly.stdout)).toEqual({ password: undefined, secret: expect.any(String) });
      expect((await resetAdmin('--everything')).status).toBe(2);
      await restart();

      // Each run changed its own credential only: the password from the first, the secret from the second.
      expect((await clientToken(reset.secret)).status).toBe(401);
      expect((await clientToken(secretsOf(secretOnly.stdout).secret!)).status).toBe(200);
      await expect(adminUserToken(new Browser({ app: server.origin }), reset.password)).rejects.toThrow('got 400: Sign in');
      expect(await statusOf('/auth/admin/clients', await adminUserToken(new Browser({ app: server.origin }), secretsOf(passwordOnly.stdout).password!))).toBe(200);
    }, 300_000);
  });
});
