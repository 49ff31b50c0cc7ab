import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { childEnv, freePort, startServerProcess, type ServerProcess } from '../support/server-process.js';

/**
 * The first start on an empty database, as `npm start` runs it (a real server process): the banner with the
 * administrator's and the local backend client's secrets, and the commands it prints, run as printed.
 */
describe('first start: the banner and its commands', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ccp-first-start-'));
  let server: ServerProcess;
  let banner: string;

  beforeAll(async () => {
    server = startServerProcess('first-start', await freePort(), { DATA_DIR: dataDir, AUTH_DISABLED: 'false' });
    await server.ready(90_000);
    banner = server.output();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Runs `lines` with bash, as a user pasting them would (in the repository's folder). */
  const bash = (lines: string) => spawnSync('bash', ['-c', lines], { env: childEnv({}), encoding: 'utf8', timeout: 30_000 });

  it('says how long the token lasts and gets it with the token helper, the secret kept in one exported variable', () => {
    expect(banner).toContain('it lasts 5 minutes');
    expect(banner).toMatch(/^ {2}export LOCAL_ADMIN_SECRET='[A-Za-z0-9_-]{43}'$/m);
    expect(banner).toContain(`TOKEN=$(npm run -s token -- --client local-admin --secret "$LOCAL_ADMIN_SECRET" --scope 'system/*.cruds admin' --url http://localhost:${server.port})`);
    // The line other tools read the secret from is kept as it was.
    expect(banner).toMatch(/client_id local-admin\s+client_secret [A-Za-z0-9_-]{43}/);
  });

  it('its curl command, run as printed, answers a token of that lifetime that opens the FHIR API and the admin API', () => {
    const exported = /^ {2}(export LOCAL_ADMIN_SECRET=.*)$/m.exec(banner)![1];
    const curl = /^ {2}(curl -s -u .*\/auth\/token)$/m.exec(banner)![1];
    const run = bash(`${exported}\n${curl}`);
    expect(run.status).toBe(0);
    const answer = JSON.parse(run.stdout) as { access_token: string; expires_in: number; scope: string };
    expect(answer).toMatchObject({ token_type: 'bearer', expires_in: 5 * 60, scope: 'system/*.cruds admin' });

    const use = /^ {2}(curl -H "Authorization: Bearer \$TOKEN" .*)$/m.exec(banner)![1];
    const fhir = bash(`TOKEN='${answer.access_token}'\n${use} -s -o /dev/null -w '%{http_code}'`);
    expect(fhir.stdout).toBe('200');
    const admin = bash(`curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer ${answer.access_token}' ${server.origin}/auth/admin/clients`);
    expect(admin.stdout).toBe('200');

    // A wrong secret: the answer says so, and holds no token.
    const wrong = JSON.parse(bash(`LOCAL_ADMIN_SECRET=not-the-secret\n${curl}`).stdout) as Record<string, string>;
    expect(wrong).toEqual({ error: 'invalid_client', error_description: 'unknown client or wrong secret' });
  });
});
