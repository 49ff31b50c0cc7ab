import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { createEmptySchema, describeWithPostgres, type EmptySchema } from './support/backends.js';
import { AUDIT_PARTITIONED_TABLES } from '../server/store/migrations/007-audit-tables.js';
import { createReadWriteRole, type TestRole } from './support/database-role.js';
import { childEnv, freePort, PROJECT_ROOT, type ServerProcess, startServerProcess } from './support/server-process.js';

/**
 * docs/DEPLOY.md's PostgreSQL roles, as the guide sets them up: the schema's owner applies the migrations with
 * `npm run migrate`, and the server runs as a role that may only read and write the tables.
 */
describeWithPostgres('a server whose database role may only read and write the tables', 'the tests of the least-privilege server role', (url) => {
  let schema: EmptySchema;
  let role: TestRole | undefined;
  let server: ServerProcess | undefined;
  const migrateCli = (databaseUrl: string) =>
    execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'dist/server/migrate.js')], { env: childEnv({ DATABASE_URL: databaseUrl }), encoding: 'utf8' });

  beforeAll(async () => {
    schema = await createEmptySchema(url);
  });
  afterAll(async () => {
    await server?.stop();
    await role?.drop();
    await schema?.close();
  });

  it('npm run migrate, as the owner, applies every migration once', () => {
    expect(migrateCli(schema.url)).toMatch(/^applied \d+ migrations: 1 resources, 2 search-index, /);
    expect(migrateCli(schema.url)).toMatch(/^the schema is up to date \(\d+ migrations\)/);
  });

  it('the server starts as that role, serves writes, searches and $verify, and says that it cannot analyze the tables nor make a missing month\'s partitions, once', async () => {
    // The owner's migrate made three months ahead; the last of them missing, as if the last migrate were two months ago.
    const ahead = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 3, 1)).toISOString().slice(0, 7).replace('-', '');
    for (const table of AUDIT_PARTITIONED_TABLES) await schema.db.exec(`DROP TABLE ${table}_p${ahead}`);
    role = await createReadWriteRole(url, schema.schema, schema.url);
    server = startServerProcess('least-privilege', await freePort(), { DATABASE_URL: role.url, AUTH_DISABLED: 'false', LOG_LEVEL: 'info', AUDIT_PARTITIONS_INTERVAL: '1' });
    await server.ready(60_000);
    const secret = /client_id local-admin\s+client_secret (\S+)/.exec(server.output())?.[1];
    expect(secret).toBeDefined();
    const token = (await (
      await fetch(`${server.origin}/auth/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`local-admin:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&scope=system%2F*.cruds',
      })
    ).json()) as { access_token: string };
    const headers = { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/fhir+json' };

    const created = await fetch(`${server.fhir}/Patient`, { method: 'POST', headers, body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Leastprivilege' }] }) });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const updated = await fetch(`${server.fhir}/Patient/${id}`, { method: 'PUT', headers, body: JSON.stringify({ resourceType: 'Patient', id, active: true, name: [{ family: 'Leastprivilege' }] }) });
    expect(updated.status).toBe(200);
    const found = (await (await fetch(`${server.fhir}/Patient?family=leastprivilege&active=true`, { headers })).json()) as { total?: number; entry?: unknown[] };
    expect(found.entry).toHaveLength(1);
    expect((await fetch(`${server.fhir}/Patient/${id}`, { method: 'DELETE', headers })).status).toBe(200);
    const verified = (await (await fetch(`${server.fhir}/AuditEvent/$verify`, { headers })).json()) as { issue: { severity: string; diagnostics: string }[] };
    expect(verified.issue[0]).toMatchObject({ severity: 'information', diagnostics: expect.stringMatching(/^The audit chain verifies/) });

    expect(server.output()).toMatch(/this database role owns none of the tables, and only their owner may analyze them/);
    // A round a second: a few more go by (a wait, no timed assertion), and still one warning, naming only a table and month.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const told = server.output().split('\n').filter((line) => line.includes('audit partitions:'));
    expect(told).toEqual([expect.stringContaining(`this database role may not create the audit partition audit_event_p${ahead} (it needs to own the audit tables)`)]);
    expect(told[0]).toContain('npm run migrate');
    expect(await server.stop()).toBe(0);
  }, 120_000);
});
