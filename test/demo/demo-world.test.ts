import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AuditEvent, Bundle, CarePlan, CareTeam, Communication, Consent, Patient, Task } from 'fhir/r4';
import { createEmptySchema, describeWithPostgres } from '../support/backends.js';
import { migratedDataDir } from '../support/data-dir.js';
import { freePort, startServerProcess, type ServerProcess } from '../support/server-process.js';
import { exportsOf, fhir, matches, runScript, type Run } from './support.js';

/*
 * `npm run demo` into an empty database, then a real server on it, asked with tokens from `npm run -s token`
 * what each person of the world may see (docs/DEMO.md; the rules: docs/CONSENT.md). One world per backend.
 */

const CONTRACT_EXPORTS = [
  'CCP_URL',
  'ADMIN_PASSWORD',
  'LOCAL_ADMIN_SECRET',
  'HOME_CARE_EMR_SECRET',
  'COORDINATOR_PASSWORD',
  'CONTRIBUTOR_PASSWORD',
  'VIEWER_PASSWORD',
  'PRIVACY_CONTACT_PASSWORD',
  'PRIVACY_AUDITOR_PASSWORD',
  'REGISTRATION_AUTHORITY_PASSWORD',
  'GP_PASSWORD',
];
const STORY_PLANS = ['ccp-p1', 'ccp-p2', 'ccp-p3', 'ccp-p4', 'ccp-p5'];
const PLANS_QUERY = `CarePlan?_id=${STORY_PLANS.join(',')}&_count=50`;
const REGISTRATION = 'http://ccp-exchange.org/fhir/CodeSystem/consent-category|ccp-registration';
const GENERATED_MRN = 'https://ccp-exchange.example.org/mrn';
const PATIENTS = 3;

const ids = (bundle: Bundle) => matches(bundle).map((resource) => resource.id!).sort();
const actorOf = (consent: Consent) => consent.provision?.actor?.[0]?.reference.reference;

/** The suite, on the database `open` gives (environment for the demo and the server). */
function demoWorld(open: () => Promise<{ env: Record<string, string>; close(): Promise<void> }>, stopsServerForRerun: boolean): void {
  let database: { env: Record<string, string>; close(): Promise<void> };
  let run: Run;
  let secrets: Map<string, string>;
  let server: ServerProcess;
  const tokens = new Map<string, string>();

  const token = async (args: string[]): Promise<Run> => runScript('token.mjs', ['--url', server.origin, ...args], {}, 60_000);
  /** A user's token from the token helper (cached per user: each is one sign-in). */
  const as = async (username: string, scope?: string): Promise<string> => {
    const key = `${username} ${scope ?? ''}`;
    if (!tokens.has(key)) {
      const variable = `${username.toUpperCase().replace(/-/g, '_')}_PASSWORD`;
      const result = await token(['--user', username, '--password', secrets.get(variable)!, ...(scope ? ['--scope', scope] : [])]);
      if (result.code !== 0) throw new Error(`no token for ${username}: ${result.stderr}`);
      tokens.set(key, result.stdout.trim());
    }
    return tokens.get(key)!;
  };
  const get = async <T = Bundle>(who: string | { token: string }, query: string) => fhir<T>(`${server.fhir}/${query}`, typeof who === 'string' ? await as(who) : who.token);

  beforeAll(async () => {
    database = await open();
    run = await runScript('demo.mjs', ['--patients', String(PATIENTS)], database.env);
    if (run.code !== 0) throw new Error(`npm run demo failed (${run.code}):\n${run.stderr}\n${run.stdout}`);
    secrets = new Map(exportsOf(run.stdout));
    server = startServerProcess('demo', await freePort(), { ...database.env, HOSTING_ORGANIZATION: 'host', AUTH_DISABLED: 'false' });
    await server.ready(90_000);
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    await database?.close();
  });

  it("prints the contract's export lines once, in order, then how to start the server", () => {
    expect(exportsOf(run.stdout).map(([name]) => name)).toEqual(CONTRACT_EXPORTS);
    expect(secrets.get('CCP_URL')).toBe('http://localhost:8080');
    for (const [name, value] of secrets) if (name !== 'CCP_URL') expect(value.length).toBeGreaterThanOrEqual(12);
    expect(run.stdout).toContain('Start the server: HOSTING_ORGANIZATION=host npm start');
  });

  it('the coordinator of the hosting organization sees every story plan, written by them', async () => {
    const { body } = await get('coordinator', PLANS_QUERY);
    expect(ids(body)).toEqual(STORY_PLANS);
    for (const plan of matches<CarePlan>(body)) {
      expect(plan.status).toBe('active');
      expect(plan.author?.reference).toBe('Practitioner/coordinator');
      expect(plan.goal?.length).toBeGreaterThanOrEqual(1);
    }
  });

  it("home-care's contributor sees p2 (modify) and p4 (view): not p1 (none), p3 (rejected) or p5 (expired), and writes only where home-care may modify", async () => {
    const { body } = await get('contributor', PLANS_QUERY);
    expect(ids(body)).toEqual(['ccp-p2', 'ccp-p4']);
    for (const hidden of ['ccp-p1', 'ccp-p3', 'ccp-p5']) expect((await get('contributor', `CarePlan/${hidden}`)).status).toBe(404);
    const goal = (patient: string) => ({
      resourceType: 'Goal',
      lifecycleStatus: 'proposed',
      description: { text: 'Check the pill organizer at each visit' },
      subject: { reference: `Patient/${patient}` },
    });
    const post = async (patient: string) => fhir(`${server.fhir}/Goal`, await as('contributor'), { method: 'POST', body: JSON.stringify(goal(patient)) });
    expect((await post('p2')).status).toBe(201);
    expect((await post('p4')).status).toBe(403);
  });

  it('the viewer sees p2 through the registration and p4 through the override that lifts the directive naming them; they write nothing', async () => {
    const { body } = await get('viewer', PLANS_QUERY);
    expect(ids(body)).toEqual(['ccp-p2', 'ccp-p4']);
    const write = await fhir(`${server.fhir}/Goal`, await as('viewer'), {
      method: 'POST',
      body: JSON.stringify({ resourceType: 'Goal', lifecycleStatus: 'proposed', description: { text: 'x' }, subject: { reference: 'Patient/p2' } }),
    });
    expect(write.status).toBe(403);
  });

  it("primary-care's family physician sees no story plan: p2's request waits for review, p3's registration was disengaged", async () => {
    const { body } = await get('gp', PLANS_QUERY);
    expect(ids(body)).toEqual([]);
  });

  it('the home-care EMR (backend client) reads what home-care may see, and writes no clinical data (system/*.rs)', async () => {
    const result = await token(['--client', 'home-care-emr', '--secret', secrets.get('HOME_CARE_EMR_SECRET')!]);
    expect(result.code).toBe(0);
    const emr = { token: result.stdout.trim() };
    expect(ids((await get(emr, PLANS_QUERY)).body)).toEqual(['ccp-p2', 'ccp-p4']);
    const write = await fhir(`${server.fhir}/Patient`, emr.token, { method: 'POST', body: JSON.stringify({ resourceType: 'Patient' }) });
    expect(write.status).toBe(403);
  });

  it("the privacy contact reads what home-care may see, and was told of the viewer's override of p4", async () => {
    expect(ids((await get('privacy-contact', PLANS_QUERY)).body)).toEqual(['ccp-p2', 'ccp-p4']);
    const { status, body } = await get('privacy-contact', 'Communication?recipient=PractitionerRole/privacy-contact');
    expect(status).toBe(200);
    const notices = matches<Communication>(body);
    expect(notices.map((notice) => [notice.subject?.reference, notice.sender?.reference])).toEqual([['Patient/p4', 'Practitioner/viewer']]);
  });

  it("the privacy auditor reaches home-care's AuditEvents only, and no plan", async () => {
    const { status, body } = await get('privacy-auditor', 'AuditEvent?_count=200');
    expect(status).toBe(200);
    const events = matches<AuditEvent>(body);
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) expect(event.agent.map((agent) => agent.who?.reference)).toContain('Organization/home-care');
    expect((await get('privacy-auditor', PLANS_QUERY)).status).toBe(403);
  });

  it("the registration authority reads and writes home-care's staff records, not plans", async () => {
    const { status, body } = await get('registration-authority', 'PractitionerRole?organization=Organization/home-care');
    expect(status).toBe(200);
    expect(ids(body)).toEqual(expect.arrayContaining(['contributor', 'privacy-auditor', 'privacy-contact', 'registration-authority', 'viewer']));
    expect((await get('registration-authority', PLANS_QUERY)).status).toBe(403);
  });

  it("the admin (held by no registration) sees every plan and, asking for the admin scope, uses the admin API; local-admin too, and sees the world's clients", async () => {
    const admin = await as('admin', 'openid fhirUser user/*.cruds admin');
    expect(ids((await get({ token: admin }, PLANS_QUERY)).body)).toEqual(STORY_PLANS);
    const users = await fetch(`${server.origin}/auth/admin/users`, { headers: { Authorization: `Bearer ${admin}` } });
    expect(users.status).toBe(200);
    const usernames = ((await users.json()) as { username?: string }[]).map((user) => user.username).sort();
    expect(usernames).toEqual(['admin', 'contributor', 'coordinator', 'gp', 'privacy-auditor', 'privacy-contact', 'registration-authority', 'viewer']);

    const result = await token(['--client', 'local-admin', '--secret', secrets.get('LOCAL_ADMIN_SECRET')!, '--scope', 'system/*.cruds admin']);
    expect(result.code).toBe(0);
    const clients = await fetch(`${server.origin}/auth/admin/clients`, { headers: { Authorization: `Bearer ${result.stdout.trim()}` } });
    const registered = (await clients.json()) as { client_id: string; organization?: string; kind: string }[];
    expect(registered.map((client) => [client.client_id, client.kind, client.organization])).toEqual([
      ['ccp-app', 'public', undefined],
      ['demo-app', 'public', undefined],
      ['home-care-emr', 'backend', 'Organization/home-care'],
      ['local-admin', 'backend', undefined],
    ]);
  });

  it('the registrations are in the states the story gives them, their Tasks with them', async () => {
    const { body } = await get('coordinator', `Consent?category=${encodeURIComponent(REGISTRATION)}&patient=p1,p2,p3,p4,p5&_count=50`);
    const registrations = matches<Consent>(body);
    const states = registrations.map((consent) => `${consent.patient?.reference} ${actorOf(consent)} ${consent.status}`).sort();
    expect(states).toEqual([
      'Patient/p2 Organization/home-care active',
      'Patient/p2 Organization/primary-care proposed',
      'Patient/p3 Organization/home-care rejected',
      'Patient/p3 Organization/primary-care inactive',
      'Patient/p4 Organization/home-care active',
      'Patient/p5 Organization/home-care active',
    ]);
    const now = Date.now();
    const periodOf = (patient: string, organization: string) => registrations.find((c) => c.patient?.reference === `Patient/${patient}` && actorOf(c) === `Organization/${organization}`)!.provision!.period!;
    expect(Date.parse(periodOf('p5', 'home-care').end!)).toBeLessThan(now);
    expect(Date.parse(periodOf('p2', 'home-care').end!)).toBeGreaterThan(now);
    expect(Date.parse(periodOf('p3', 'primary-care').end!)).toBeLessThanOrEqual(now);

    const tasks = matches<Task>((await get('coordinator', 'Task?patient=p2,p3,p4,p5&_count=50')).body);
    const taskStates = tasks.map((task) => `${task.for?.reference} ${task.requester?.reference} ${task.status}`).sort();
    expect(taskStates).toEqual([
      'Patient/p2 Organization/home-care completed',
      'Patient/p2 Organization/primary-care requested',
      'Patient/p3 Organization/home-care rejected',
      'Patient/p3 Organization/primary-care completed',
      'Patient/p4 Organization/home-care completed',
      'Patient/p5 Organization/home-care completed',
    ]);
  });

  it("p4's plan is withheld from the viewer by a directive, and the viewer's override (patient-consent) is current", async () => {
    const consents = matches<Consent>((await get('coordinator', 'Consent?patient=p4&_count=50')).body);
    const directive = consents.find((c) => c.category?.some((cat) => cat.coding?.some((coding) => coding.code === 'consent-directive')));
    expect(directive?.status).toBe('active');
    expect([directive?.provision?.type, actorOf(directive!)]).toEqual(['deny', 'Practitioner/viewer']);
    const override = consents.find((c) => c.category?.some((cat) => cat.coding?.some((coding) => coding.code === 'INFA')));
    expect(override?.status).toBe('active');
    expect(actorOf(override!)).toBe('Practitioner/viewer');
    expect(override?.provision?.purpose?.map((purpose) => purpose.code)).toEqual(['patient-consent']);
    expect(Date.parse(override!.provision!.period!.end!)).toBeGreaterThan(Date.now());
  });

  it('each step of the story is an AuditEvent of the person who took it', async () => {
    const admin = { token: await as('admin', 'openid fhirUser user/*.cruds admin') };
    const operations = async (practitioner: string) => {
      const { body } = await get<Bundle>(admin, `AuditEvent?agent=Practitioner/${practitioner}&subtype=operation&_count=100`);
      return matches<AuditEvent>(body).map((event) => event.outcome);
    };
    // contributor: three registrations; gp: two; coordinator: three approvals, a rejection, a disengagement; viewer: the override.
    expect(await operations('contributor')).toEqual(['0', '0', '0']);
    expect(await operations('gp')).toEqual(['0', '0']);
    expect(await operations('coordinator')).toEqual(['0', '0', '0', '0', '0']);
    const override = matches<AuditEvent>((await get<Bundle>(admin, 'AuditEvent?agent=Practitioner/viewer&subtype=operation')).body);
    expect(override.map((event) => event.purposeOfEvent?.flatMap((purpose) => purpose.coding?.map((coding) => coding.code)))).toEqual([['patient-consent']]);
  });

  it('the generated patients have plans of Organization/host and registrations of home-care or primary-care', async () => {
    const patients = matches<Patient>((await get('coordinator', `Patient?identifier=${encodeURIComponent(`${GENERATED_MRN}|`)}&_count=50`)).body);
    expect(patients.map((patient) => patient.id).sort()).toEqual(Array.from({ length: PATIENTS }, (_, i) => `gen-p-${i}`).sort());
    const list = patients.map((patient) => patient.id).join(',');
    const plans = matches<CarePlan>((await get('coordinator', `CarePlan?patient=${list}&status=active&_count=50`)).body);
    expect(plans).toHaveLength(PATIENTS);
    const teams = matches<CareTeam>((await get('coordinator', `CareTeam?patient=${list}&_count=50`)).body);
    expect(new Set(teams.flatMap((team) => team.managingOrganization?.map((o) => o.reference)))).toEqual(new Set(['Organization/host']));
    const registrations = matches<Consent>((await get('coordinator', `Consent?category=${encodeURIComponent(REGISTRATION)}&patient=${list}&_count=50`)).body);
    expect(registrations.length).toBeGreaterThanOrEqual(PATIENTS);
    for (const registration of registrations) expect(['Organization/home-care', 'Organization/primary-care']).toContain(actorOf(registration));
  });

  describe('the token helper', () => {
    it('a wrong password: exit 1, one line on stderr naming the failed sign-in, nothing on stdout', async () => {
      const result = await token(['--user', 'gp', '--password', 'not-the-password-at-all']);
      expect(result).toEqual({ code: 1, stdout: '', stderr: expect.stringMatching(/^token: sign-in as gp failed: The username or password is wrong[^\n]*\n$/) });
    });

    it('a password that begins with a dash is the password, not an option (generated secrets may begin with one)', async () => {
      const admin = await token(['--client', 'local-admin', '--secret', secrets.get('LOCAL_ADMIN_SECRET')!, '--scope', 'admin']);
      const password = '-begins-with-a-dash';
      const made = await fetch(`${server.origin}/auth/admin/users`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${admin.stdout.trim()}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'dash', password, practitioner_role: 'PractitionerRole/gp' }),
      });
      expect(made.status).toBe(201);
      const result = await token(['--user', 'dash', '--password', password]);
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
      expect(result.stdout.trim()).toMatch(/^\S{20,}$/);
    });

    it("a wrong client secret: exit 1, the server's OAuth error and description", async () => {
      const result = await token(['--client', 'local-admin', '--secret', 'not-the-secret']);
      expect(result).toEqual({ code: 1, stdout: '', stderr: 'token: the token request was refused (401): invalid_client: unknown client or wrong secret\n' });
    });

    it('a scope the client is not registered for: exit 1 with invalid_scope', async () => {
      const result = await token(['--client', 'home-care-emr', '--secret', secrets.get('HOME_CARE_EMR_SECRET')!, '--scope', 'system/*.cruds']);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^token: the token request was refused \(400\): invalid_scope: /);
    });

    it('no server there: exit 1, saying it cannot be reached', async () => {
      const result = await runScript('token.mjs', ['--url', `http://127.0.0.1:${await freePort()}`, '--client', 'local-admin', '--secret', 'x'], {}, 30_000);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^token: cannot reach the server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    });

    it('without credentials: exit 1 with what to give; --help prints the usage', async () => {
      const bare = await runScript('token.mjs', ['--url', server.origin], {}, 30_000);
      expect([bare.code, bare.stdout, bare.stderr]).toEqual([1, '', 'token: give --user and --password, or --client and --secret (npm run -s token -- --help)\n']);
      const help = await runScript('token.mjs', ['--help'], {}, 30_000);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('npm run -s token -- --user NAME --password PASSWORD');
    });
  });

  describe('run again on the same database', () => {
    beforeAll(async () => {
      // The embedded database serves one process at a time.
      if (stopsServerForRerun) await server.stop();
    });

    it('is refused, naming what the database holds and how to go on (an empty database, or --force)', async () => {
      const again = await runScript('demo.mjs', ['--patients', '0'], database.env);
      expect(again.code).toBe(1);
      expect(again.stdout).not.toMatch(/^export /m);
      expect(again.stderr).toMatch(/already holds data, so the demo wrote nothing/);
      expect(again.stderr).toMatch(/accounts: .*coordinator/);
      expect(again.stderr).toContain('--force');
    });

    it('is refused with --force too: the demo never writes over its own world', async () => {
      const again = await runScript('demo.mjs', ['--patients', '0', '--force'], database.env);
      expect(again.code).toBe(1);
      expect(again.stdout).not.toMatch(/^export /m);
      expect(again.stderr).toMatch(/already holds records the demo world would write \(.*CarePlan\/ccp-p1.*\(\d+ more\)\), so it wrote nothing/);
    });
  });
}

describe('npm run demo on the embedded database (PGlite)', () => {
  demoWorld(async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'ccp-demo-'));
    return { env: { DATA_DIR: migratedDataDir(path.join(work, 'data')) }, close: async () => rmSync(work, { recursive: true, force: true }) };
  }, true);
});

describeWithPostgres('npm run demo on PostgreSQL', 'the demo world suite on PostgreSQL', (url) => {
  demoWorld(async () => {
    const schema = await createEmptySchema(url);
    return { env: { DATABASE_URL: schema.url }, close: () => schema.close() };
  }, false);
});
