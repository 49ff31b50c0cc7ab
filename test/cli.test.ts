import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { migratedDataDir } from './support/data-dir.js';
import { listeningAddresses } from './support/listening.js';
import { childEnv, freePort, PROJECT_ROOT, startServerProcess } from './support/server-process.js';

/** The server as `npm start` runs it (`node dist/server/main.js`, built by jest's global setup). */
describe('the server process on the embedded database', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ccp-cli-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('refuses to start on bad configuration, naming each bad variable, with exit code 2', () => {
    const env = { ...process.env, PORT: 'eighty', BASE_URL: 'nowhere', NODE_OPTIONS: '' };
    const run = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'dist/server/main.js')], { env, encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/Invalid configuration/);
    expect(run.stderr).toMatch(/PORT: must be an integer/);
    expect(run.stderr).toMatch(/BASE_URL: must be an absolute http\(s\) URL/);
    expect(run.stderr).not.toMatch(/\bat .+\.js:\d+/);
  });

  it('listens on loopback only unless HOST says otherwise, and prints that address in the start log and the first-start commands', async () => {
    const port = await freePort();
    const folder = migratedDataDir(mkdtempSync(path.join(os.tmpdir(), 'ccp-cli-host-')));
    // HOST empty: the default, whatever this machine's environment holds; with tokens, so the first start prints its secrets.
    const server = startServerProcess('default-host', port, { DATA_DIR: folder, HOST: '', AUTH_DISABLED: 'false', LOG_LEVEL: 'info' });
    try {
      await server.ready(60_000);
      expect(listeningAddresses(port)).toEqual(['127.0.0.1']);
    } finally {
      expect(await server.stop()).toBe(0);
      rmSync(folder, { recursive: true, force: true });
    }
    const origin = `http://127.0.0.1:${port}`;
    expect(server.output()).toMatch(/"host":"127\.0\.0\.1"/);
    expect(server.output()).toContain(`FHIR server listening on ${origin}/fhir`);
    expect(server.output()).toContain(`${origin}/auth/token`);
    expect(server.output()).not.toContain('localhost');
  });

  it('refuses a HOSTING_ORGANIZATION the database does not hold (exit 1, naming it and the fix); the start log names the one in force, or none', async () => {
    const folder = migratedDataDir(mkdtempSync(path.join(os.tmpdir(), 'ccp-hosting-')));
    try {
      // A fresh database holds no Organization yet: refused, not started quietly with the host's staff held as partners.
      const env = childEnv({ DATA_DIR: folder, HOSTING_ORGANIZATION: 'no-such-org', HOST: '127.0.0.1', PORT: String(await freePort()), AUTH_DISABLED: 'true' });
      const refused = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'dist/server/main.js')], { env, encoding: 'utf8', timeout: 60_000 });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('HOSTING_ORGANIZATION: Organization/no-such-org does not exist');
      expect(refused.stderr).toContain('PUT /fhir/Organization/no-such-org');
      expect(refused.stderr).toContain('npm run demo');
      expect(refused.stderr).not.toMatch(/\bat .+\.js:\d+/);

      // The refusal released DATA_DIR: a start without it runs, says no organization hosts, and the host is created.
      const port = await freePort();
      const unhosted = startServerProcess('unhosted', port, { DATA_DIR: folder, LOG_LEVEL: 'info' });
      try {
        await unhosted.ready(60_000);
        const put = await fetch(`${unhosted.fhir}/Organization/host-org`, {
          method: 'PUT',
          headers: { 'Content-Type': 'application/fhir+json' },
          body: JSON.stringify({ resourceType: 'Organization', id: 'host-org', active: true, name: 'Regional Host' }),
        });
        expect(put.status).toBe(201);
      } finally {
        expect(await unhosted.stop()).toBe(0);
      }
      expect(unhosted.output()).toMatch(/"msg":"no hosting organization \(HOSTING_ORGANIZATION is not set\)/);

      const hosted = startServerProcess('hosted', port, { DATA_DIR: folder, LOG_LEVEL: 'info', HOSTING_ORGANIZATION: 'host-org' });
      try {
        await hosted.ready(60_000);
      } finally {
        expect(await hosted.stop()).toBe(0);
      }
      expect(hosted.output()).toMatch(/"hostingOrganization":"Organization\/host-org","msg":"hosting organization: Organization\/host-org \(Regional Host\)"/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 180_000);

  it('LOG_FORMAT=pretty: one readable line per entry even on a pipe, and still no resource content', async () => {
    const folder = migratedDataDir(mkdtempSync(path.join(os.tmpdir(), 'ccp-pretty-')));
    const server = startServerProcess('pretty', await freePort(), { DATA_DIR: folder, LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' });
    try {
      await server.ready(60_000);
      const created = await fetch(`${server.fhir}/Patient`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Qzxjvbnmlk' }] }),
      });
      expect(created.status).toBe(201);
    } finally {
      expect(await server.stop()).toBe(0);
      rmSync(folder, { recursive: true, force: true });
    }
    const lines = server.output().split('\n').filter(Boolean);
    expect(lines.find((line) => line.includes('FHIR server listening'))).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: FHIR server listening on http:\/\/127\.0\.0\.1:\d+\/fhir \{"host":"127\.0\.0\.1","port":\d+,"database":"pglite"\}$/);
    expect(lines.find((line) => line.includes('INFO: request') && line.includes('"method":"POST"'))).toMatch(/"path":"\/fhir\/Patient","status":201/);
    for (const line of lines) expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN|ERROR|FATAL): /);
    expect(server.output()).not.toContain('Qzxjvbnmlk');
  }, 120_000);

  it('keeps data in DATA_DIR across restarts, stops cleanly on SIGTERM, and logs no resource content', async () => {
    // An empty folder, as a first `npm start` finds it: the process creates the database (the others here start
    // on a migrated copy, test/support/data-dir.ts).
    const port = await freePort();
    const first = startServerProcess('first', port, { DATA_DIR: dataDir, LOG_LEVEL: 'info' });
    let id: string;
    try {
      await first.ready(60_000);
      const metadata = await fetch(`${first.fhir}/metadata`);
      expect(metadata.status).toBe(200);
      expect(((await metadata.json()) as { fhirVersion: string }).fhirVersion).toBe('4.0.1');

      const created = await fetch(`${first.fhir}/Patient`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Zyxwvutsrq' }], birthDate: '1931-07-04' }),
      });
      expect(created.status).toBe(201);
      id = ((await created.json()) as { id: string }).id;
      // A query string can carry PHI too: it must not reach the log either.
      await (await fetch(`${first.fhir}/Patient/${id}?_elements=name&family=Qwertyuiop`)).arrayBuffer();
    } finally {
      expect(await first.stop()).toBe(0);
    }
    const log = first.output();
    // Its stdout is a pipe, not a terminal: every line is a JSON log entry.
    const lines = log.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ level: expect.any(Number), msg: expect.any(String) });
    expect(log).toMatch(/"msg":"request"/);
    expect(log).toMatch(/"requestId":"[0-9a-f-]{36}"/);
    expect(log).not.toMatch(/Zyxwvutsrq|1931-07-04|Qwertyuiop/);

    const second = startServerProcess('second', port, { DATA_DIR: dataDir });
    try {
      await second.ready(60_000);
      const read = await fetch(`${second.fhir}/Patient/${id}`);
      expect(read.status).toBe(200);
      expect(((await read.json()) as { name: unknown }).name).toEqual([{ family: 'Zyxwvutsrq' }]);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });
});
