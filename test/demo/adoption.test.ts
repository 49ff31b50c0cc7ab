import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AuditEvent } from 'fhir/r4';
import { createAuthServer } from '../../server/auth/auth-server.js';
import { bootstrap, type BootstrapCredentials } from '../../server/auth/bootstrap.js';
import { verifyPassword } from '../../server/auth/secrets.js';
import { publishTerms } from '../../server/auth/terms.js';
import { seedGuide } from '../../server/store/guide-seed.js';
import { extractIndexRows } from '../../server/search/index/extract.js';
import { R4_REGISTRY } from '../../server/search/registry.js';
import type { Database } from '../../server/store/database.js';
import { openDatabase } from '../../server/store/open.js';
import { SqlResourceStore } from '../../server/store/sql-resource-store.js';
import { migratedDataDir } from '../support/data-dir.js';
import { PROJECT_ROOT } from '../support/server-process.js';
import { exportsOf, runScript, type Run } from './support.js';

/*
 * A database the server has started on once holds only what the first start made: the admin account, the
 * local-admin client, the implementation guide and the Terms of Use. `npm run demo` adopts it (docs/DEMO.md):
 * the two accounts keep their ids and get new secrets, each reset an AuditEvent.
 */

const SECURITY_ATTRIBUTES_CHANGED = '110137';

describe('npm run demo on a database holding only the first-start accounts (PGlite)', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'ccp-demo-adopt-'));
  const dataDir = migratedDataDir(path.join(work, 'data'));
  let first: BootstrapCredentials;
  let firstRoleId: string;
  let run: Run;
  let secrets: Map<string, string>;

  /** The database as the demo left it, opened once after it exited for every test to read (a PGlite open costs seconds). */
  let after: Database | undefined;

  async function withDatabase<T>(use: (db: Database) => Promise<T>): Promise<T> {
    const db = await openDatabase({ dataDir });
    try {
      return await use(db);
    } finally {
      await db.close();
    }
  }

  async function afterDemo<T>(use: (db: Database) => Promise<T>): Promise<T> {
    after ??= await openDatabase({ dataDir });
    return use(after);
  }

  beforeAll(async () => {
    // What the server's first start does (server/main.ts), in this process: the guide, the terms, the accounts.
    await withDatabase(async (db) => {
      const store = new SqlResourceStore(db, (resource) => extractIndexRows(resource, R4_REGISTRY));
      await seedGuide(store, R4_REGISTRY);
      await publishTerms(db, readFileSync(path.join(PROJECT_ROOT, 'config/terms-of-use.txt'), 'utf8'));
      first = (await bootstrap(createAuthServer(db), store))!;
      firstRoleId = (await db.query<{ practitioner_role_id: string }>("SELECT practitioner_role_id FROM auth_user WHERE username = 'admin'"))[0].practitioner_role_id;
    });
    run = await runScript('demo.mjs', ['--patients', '0'], { DATA_DIR: dataDir });
    if (run.code !== 0) throw new Error(`npm run demo failed (${run.code}):\n${run.stderr}\n${run.stdout}`);
    secrets = new Map(exportsOf(run.stdout));
  }, 300_000);

  afterAll(async () => {
    await after?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('is accepted without --force, and says the first-start accounts were adopted', () => {
    expect(first.username).toBe('admin');
    expect(run.stdout).toMatch(/The first-start accounts admin and local-admin were adopted/);
    expect([...secrets.keys()]).toContain('ADMIN_PASSWORD');
  });

  it('the admin keeps its account and PractitionerRole; only the new password opens it', async () => {
    const [admin] = await afterDemo((db) =>
      db.query<{ practitioner_role_id: string; password_hash: string }>("SELECT practitioner_role_id, password_hash FROM auth_user WHERE username = 'admin'"),
    );
    expect(admin.practitioner_role_id).toBe(firstRoleId);
    expect(firstRoleId).not.toBe('admin');
    expect(await verifyPassword(secrets.get('ADMIN_PASSWORD')!, admin.password_hash)).toBe(true);
    expect(await verifyPassword(first.password, admin.password_hash)).toBe(false);
  });

  it('local-admin keeps its registration; only the new secret authenticates it', async () => {
    const [client] = await afterDemo((db) => db.query<{ secret_hash: string; scope: string }>("SELECT secret_hash, scope FROM auth_client WHERE client_id = 'local-admin'"));
    expect(client.scope).toBe('system/*.cruds admin ehr-launch');
    expect(await verifyPassword(secrets.get('LOCAL_ADMIN_SECRET')!, client.secret_hash)).toBe(true);
    expect(await verifyPassword(first.clientSecret, client.secret_hash)).toBe(false);
  });

  it('each reset is an AuditEvent naming the account or client, never the secret', async () => {
    const events = await afterDemo((db) =>
      db.query<{ content: AuditEvent }>("SELECT content FROM audit_event WHERE content->'subtype' @> $1::jsonb", [
        JSON.stringify([{ code: SECURITY_ATTRIBUTES_CHANGED }]),
      ]),
    );
    const [user] = await afterDemo((db) => db.query<{ id: string }>("SELECT id FROM auth_user WHERE username = 'admin'"));
    const named = events.map(({ content }) => content.entity?.map((entity) => entity.what?.identifier?.value));
    expect(named.sort()).toEqual([[user.id], ['local-admin']].sort());
    for (const { content } of events) {
      expect(content.action).toBe('U');
      expect(JSON.stringify(content)).not.toContain(secrets.get('ADMIN_PASSWORD')!);
      expect(JSON.stringify(content)).not.toContain(secrets.get('LOCAL_ADMIN_SECRET')!);
    }
  });

  it('the rest of the world is written beside them: the other accounts, and the story with ids of its own', async () => {
    const usernames = await afterDemo((db) => db.query<{ username: string }>('SELECT username FROM auth_user ORDER BY username'));
    expect(usernames.map((row) => row.username)).toEqual(['admin', 'contributor', 'coordinator', 'gp', 'privacy-auditor', 'privacy-contact', 'registration-authority', 'viewer']);
    const plans = await afterDemo((db) => db.query<{ id: string }>("SELECT id FROM resource WHERE resource_type = 'CarePlan' AND NOT deleted ORDER BY id"));
    expect(plans.map((row) => row.id)).toEqual(['ccp-p1', 'ccp-p2', 'ccp-p3', 'ccp-p4', 'ccp-p5']);
  });
});
