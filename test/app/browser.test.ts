import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Bundle, CarePlan, Condition, Consent, Goal, Organization, Parameters, Patient, Practitioner, PractitionerRole, Task } from 'fhir/r4';
import type { Browser, Frame, Page } from 'playwright-core';
import { ensureAppClient } from '../../server/auth/app-client.js';
import { bootstrap, type BootstrapCredentials } from '../../server/auth/bootstrap.js';
import { publishTerms } from '../../server/auth/terms.js';
import { type Backend, BACKENDS, reportBackends } from '../support/backends.js';
import { axeViolations, launchChromium, type PageProblems, watchedContext } from '../support/browser.js';
import { type EhrSimulator, startEhrSimulator } from '../support/ehr-simulator.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { person, pkce } from '../support/smart-flow.js';
import { ccpPlan } from '../support/ccp-plan.js';
import { PROJECT_ROOT } from '../support/server-process.js';

reportBackends();

/**
 * The app and its server in a real browser (Debian's Chromium through playwright-core; one browser for the file,
 * a context per test): a standalone launch as the first start's administrator, through the patient picker, to the
 * plan; an EHR's launch into a CarePlan with the app in the EHR simulator's iframe on another site; the
 * frame-ancestors rule refusing that iframe when APP_FRAME_ANCESTORS does not name the EHR. On every screen: no
 * Content-Security-Policy violation, no console error, no axe-core WCAG 2.2 AA violation. The server is the real
 * application on a socket, set up as server/main.ts does (the first start's accounts, the Terms of Use, the app's
 * client), serving the real build of the app.
 */

/** The app as `npm run build` made it (jest's global setup runs the build before any suite). */
const APP_DIR = path.join(PROJECT_ROOT, 'dist', 'app');
/**
 * The screens the flows visit: into docs/app-screens (shown in docs/APP.md) when UPDATE_SCREENSHOTS=true, else into
 * a folder of their own under the build, so an ordinary test run leaves the tracked screenshots as they are (they show
 * times that change on every run).
 */
const SCREENS = process.env.UPDATE_SCREENSHOTS === 'true' ? path.join(PROJECT_ROOT, 'docs', 'app-screens') : path.join(PROJECT_ROOT, 'dist', 'app-screens');

export interface RunningServer {
  server: TestServer;
  origin: string;
  credentials: BootstrapCredentials;
  close(): Promise<void>;
}

/** The application on 127.0.0.1 as `npm start` sets it up: its first start's accounts, Terms of Use and app client. */
export async function runServer(backend: Backend, options: { appDir: string; appFrameAncestors?: string[] }): Promise<RunningServer> {
  const server = await openTestServer(backend, { auth: true, ...options });
  const listening = http.createServer(server.app);
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  await publishTerms(server.db, 'Use this service for the care of your patients only.');
  const credentials = (await bootstrap(server.auth!, server.context.store))!;
  expect(await ensureAppClient(server.auth!, origin)).toEqual({ outcome: 'created' });
  return {
    server,
    origin,
    credentials,
    close: async () => {
      listening.closeAllConnections();
      await new Promise<void>((resolve) => listening.close(() => resolve()));
      await server.close();
    },
  };
}

/** A token of the local backend client with `ehr-launch`, as an EHR's back end holds one. */
export function ehrToken(running: RunningServer): () => Promise<string> {
  return async () => {
    const res = await fetch(`${running.origin}/auth/token`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`${running.credentials.clientId}:${running.credentials.clientSecret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'ehr-launch' }).toString(),
    });
    const body = (await res.json()) as { access_token?: string };
    if (!body.access_token) throw new Error(`no ehr-launch token: ${res.status} ${JSON.stringify(body)}`);
    return body.access_token;
  };
}

/** The framed document once the frame finished loading: the app's, or Chromium's error page when it refused to frame it. */
async function framed(page: Page, url: string): Promise<Frame> {
  await page.goto(url, { waitUntil: 'load' });
  const frame = await (await page.$('#smart-app'))!.contentFrame();
  await frame!.waitForLoadState('load');
  return frame!;
}

let chromium: Browser;
beforeAll(async () => {
  if (!existsSync(path.join(APP_DIR, 'index.html'))) throw new Error(`The app is not built in ${APP_DIR}: npm run build builds it (jest's global setup runs npm run build).`);
  mkdirSync(SCREENS, { recursive: true });
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
});


/** A small Coordinated Care Plan: a concern, a goal addressing it, the plan naming both; for a new patient unless given. */
async function plantPlan(running: RunningServer, family: string, goal: string, status: CarePlan['status'] = 'active', patient?: string): Promise<{ patient: string; plan: string }> {
  const store = running.server.context.store;
  patient ??= (await store.create({ resourceType: 'Patient', name: [{ family, given: ['Ana'] }], birthDate: '1948-03-12', gender: 'female' } as Patient)).id!;
  const concern = (await store.create({
    resourceType: 'Condition',
    subject: { reference: `Patient/${patient}` },
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { text: 'Heart failure' },
  } as Condition)).id!;
  const goalId = (await store.create({
    resourceType: 'Goal',
    lifecycleStatus: 'active',
    description: { text: goal },
    subject: { reference: `Patient/${patient}` },
    addresses: [{ reference: `Condition/${concern}` }],
  } as Goal)).id!;
  const { id: _ignored, ...plan } = ccpPlan('-', patient, { status, title: `Care plan of Ana ${family}`, goal: [{ reference: `Goal/${goalId}` }], addresses: [{ reference: `Condition/${concern}` }] });
  return { patient, plan: (await store.create(plan as CarePlan)).id! };
}

/** The screen as it is now: no axe violation on the page (its frames included), nothing the page did wrong; saved when named. */
async function screen(page: Page, name: string | undefined, problems: PageProblems): Promise<void> {
  expect([name, await axeViolations(page)]).toEqual([name, []]);
  expect([name, problems.all()]).toEqual([name, []]);
  if (name) await page.screenshot({ path: path.join(SCREENS, `${name}.png`), fullPage: true });
}

describe.each(BACKENDS)('the app in Chromium, on $name', (backend) => {
  let ehr: EhrSimulator;
  let target: RunningServer;
  let allowed: RunningServer;
  let refused: RunningServer;
  const screenshots = backend === BACKENDS[0];

  beforeAll(async () => {
    // The simulator listens first: the server that lets it frame the app names its origin.
    ehr = await startEhrSimulator(() => ({ server: target.origin, token: ehrToken(target) }));
    allowed = await runServer(backend, { appDir: APP_DIR, appFrameAncestors: [ehr.origin] });
    refused = await runServer(backend, { appDir: APP_DIR });
  });
  afterAll(async () => {
    await ehr?.close();
    await allowed?.close();
    await refused?.close();
  });

  it('standalone: /app/ sends the administrator to sign in, the Terms of Use, the patient picker, and shows the plan, goals first', async () => {
    await plantPlan(allowed, 'Rivera', 'Walk 20 minutes a day without shortness of breath');
    const { context, problems } = await watchedContext(chromium, { viewport: { width: 1280, height: 900 } });
    try {
      // The page's clock runs as usual until the test moves it on (the session's hours, below).
      await context.clock.install();
      const page = await context.newPage();
      await page.goto(`${allowed.origin}/app/`);
      await page.waitForURL(/\/auth\/interaction\//);
      await expectHeading(page, 'Sign in');
      await screen(page, screenshots ? 'sign-in' : undefined, problems);
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel('Password').fill(allowed.credentials.password);
      await page.getByRole('button', { name: 'Sign in' }).click();

      await expectHeading(page, 'Terms of Use');
      await screen(page, screenshots ? 'terms-of-use' : undefined, problems);
      await page.getByRole('button', { name: 'I accept' }).click();

      await expectHeading(page, 'Choose a patient');
      await screen(page, screenshots ? 'patient-picker' : undefined, problems);
      await page.getByLabel(/Rivera/).check();
      await page.getByRole('button', { name: 'Choose this patient' }).click();

      await expectHeading(page, 'Allow access?');
      await screen(page, screenshots ? 'approve' : undefined, problems);
      await page.getByRole('button', { name: 'Allow' }).click();

      await page.waitForURL(new RegExp(`^${allowed.origin}/app/`));
      await expectHeading(page, 'Care plan');
      await page.getByText('Walk 20 minutes a day without shortness of breath').waitFor();
      await expect(page.getByRole('heading', { level: 2 }).first().textContent()).resolves.toBe('Goals');
      expect(page.url()).not.toContain('code=');
      await screen(page, screenshots ? 'plan' : undefined, problems);

      // An hour on, the access token has expired: the next request renews it with the online_access refresh token
      // (naming the public client, or the server would refuse it), and the history shows.
      const refreshes: number[] = [];
      page.on('requestfinished', async (request) => {
        if (request.url() === `${allowed.origin}/auth/token` && request.postData()?.includes('grant_type=refresh_token')) refreshes.push((await request.response())!.status());
      });
      await page.clock.fastForward('01:00:30');
      await page.getByRole('link', { name: 'History of changes' }).click();
      await expectHeading(page, 'Plan history');
      await page.getByRole('table').first().waitFor();
      expect(refreshes).toEqual([200]);

      // 7 h 56 min after the sign-in, the session has 4 minutes left (less the test's own seconds): the warning shows.
      await page.clock.fastForward('06:55:30');
      await expect(page.getByRole('alert').filter({ hasText: 'Your sign-in ends in' }).textContent()).resolves.toMatch(/^Your sign-in ends in [34] minutes \(at \d{4}-\d\d-\d\d \d\d:\d\d\)\. Sign in again to keep working, or sign out\./);
      await screen(page, screenshots ? 'session-warning' : undefined, problems);
    } finally {
      await context.close();
    }
  });

  it("EHR launch: the simulator's chart opens the app in its iframe on the CarePlan it has open; sign-in and plan in the frame", async () => {
    target = allowed;
    // The chart has the patient's earlier, completed plan open: the app must open that one, not the active one.
    const { patient, plan } = await plantPlan(allowed, 'Okafor', 'Sleep through the night without oxygen', 'completed');
    await plantPlan(allowed, 'Okafor', 'Not the plan the EHR has open', 'active', patient);
    const { context, problems } = await watchedContext(chromium, { viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      await page.goto(ehr.chartUrl({ patient, carePlan: plan }));
      const frame = (await (await page.$('#smart-app'))!.contentFrame())!;
      // The EHR is on another site: the framed app may not use sessionStorage, so it stays on its page (its state in
      // memory) and shows the sign-in pages in a frame of its own.
      const signIn = await childFrame(frame, /\/auth\/interaction\//);
      await expectHeading(signIn, 'Sign in');
      await expect(frame.evaluate(() => { try { return typeof window.sessionStorage; } catch (error) { return (error as Error).message; } })).resolves.toMatch(/Access is denied/);
      await screen(page, screenshots ? 'ehr-sign-in' : undefined, problems);
      await signIn.getByLabel('Username').fill('admin');
      await signIn.getByLabel('Password').fill(allowed.credentials.password);
      // By keyboard in the frame (as a keyboard-only user would): playwright-core's click (1.64 and 1.65) never finds its hit
      // target settled in this cross-origin frame under Chromium 156, while the same button takes Enter at once.
      await signIn.getByRole('button', { name: 'Sign in' }).press('Enter');
      // The Terms of Use once per user: accepted already when the standalone launch ran first.
      const next = signIn.getByRole('heading', { level: 1, name: /^(Terms of Use|Allow access\?)$/ });
      await next.waitFor({ timeout: 15_000 });
      if ((await next.textContent()) === 'Terms of Use') await signIn.getByRole('button', { name: 'I accept' }).press('Enter');
      await expectHeading(signIn, 'Allow access?');
      await signIn.getByRole('button', { name: 'Allow' }).press('Enter');

      await expectHeading(frame, 'Care plan');
      // The answer went from the sign-in frame to the app's page, which exchanged the code: no frame is left.
      expect(frame.url()).toBe(`${allowed.origin}/app/`);
      expect(frame.childFrames()).toEqual([]);
      await frame.getByText('Sleep through the night without oxygen').waitFor();
      expect(await frame.getByText('Not the plan the EHR has open').count()).toBe(0);
      await screen(page, screenshots ? 'ehr-launch' : undefined, problems);
      expect(ehr.launches).toHaveLength(1);
    } finally {
      await context.close();
    }
  });

  /** The app's authorization as the framed app starts it: its sign-in page comes next. */
  const authorizePath = (running: RunningServer) =>
    `/auth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: 'ccp-app',
      redirect_uri: `${running.origin}/app/`,
      scope: 'openid fhirUser user/*.rs',
      aud: `${running.origin}/fhir`,
      state: 'framed',
      code_challenge: pkce().challenge,
      code_challenge_method: 'S256',
    })}`;

  it('without APP_FRAME_ANCESTORS naming the EHR: the browser refuses to frame the app and the sign-in page, naming frame-ancestors', async () => {
    target = refused;
    const { patient } = await plantPlan(refused, 'Rivera', 'A goal');
    const { context, problems } = await watchedContext(chromium);
    try {
      const page = await context.newPage();
      const pages: [string, string][] = [
        [ehr.chartUrl({ patient }), "frame-ancestors 'self'"],
        [ehr.frameUrl(authorizePath(refused)), "frame-ancestors 'none'"],
      ];
      for (const [url, directive] of pages) {
        problems.clear();
        const frame = await framed(page, url);
        expect(frame.url()).toBe('chrome-error://chromewebdata/');
        // Chromium's error page in its place, which has words of its own: none of ours.
        const shown = await frame.locator('h1').allTextContents();
        expect(shown).not.toContain('Sign in');
        expect(shown).not.toContain('CCP Exchange');
        // Chromium 156's words ("Framing '…' violates the following Content Security Policy directive: …"); older ones said "Refused to frame".
        expect(problems.console).toHaveLength(1);
        expect(problems.console[0]).toMatch(/(Framing|Refused to frame) '.*' .*violates the following Content Security Policy directive/);
        expect(problems.console[0]).toContain(`"${directive}"`);
      }
    } finally {
      await context.close();
    }
  });

  it("a partner without access: the explanation and no plan data, then a request for access that the host's side finds", async () => {
    const goal = 'Climb the stairs at home without stopping';
    const { patient } = await plantPlan(allowed, 'Lindqvist', goal);
    // Partner staff as an administrator sets them up: their organization, a Practitioner, a contributor's PractitionerRole there, an account.
    const partner = await person(allowed.server, 'partner-nurse', ['contributor']);
    const { context, problems } = await watchedContext(chromium, { viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      await launchStandalone(page, allowed.origin, partner, /Lindqvist/, 'first');
      await page.getByText('You have no access to a plan for this patient.').waitFor();
      await page.getByRole('heading', { level: 2, name: 'Request access' }).waitFor();
      expect(await page.getByText(goal).count()).toBe(0);
      expect(await page.getByText('Heart failure').count()).toBe(0);
      // The form opens with the signed-in practitioner as the one who obtained the consent, and verbally.
      await expect(page.getByLabel('Me, the signed-in practitioner').isChecked()).resolves.toBe(true);
      await expect(page.getByLabel('How').inputValue()).resolves.toBe('verbal');
      await screen(page, screenshots ? 'request-access' : undefined, problems);

      // A mistake is said at its field, tied to it, before anything is sent.
      await page.getByLabel('Another practitioner').check();
      const by = page.getByLabel('Their practitioner reference');
      await by.fill('Dr Jones');
      await page.getByRole('button', { name: 'Request access' }).click();
      await expect(by.getAttribute('aria-invalid')).resolves.toBe('true');
      await expect(by.getAttribute('aria-describedby')).resolves.toBe('consentObtainedBy-hint consentObtainedBy-error');
      await expect(page.locator('#consentObtainedBy-error').textContent()).resolves.toMatch(/^This is not a practitioner/);
      await screen(page, undefined, problems);

      // The server's refusal, in its words at the field it names (the OperationOutcome's expression), never as JSON.
      await by.fill('Practitioner/nobody-here');
      await page.getByRole('button', { name: 'Request access' }).click();
      await expect(page.getByRole('alert').filter({ hasText: 'not accepted' }).textContent()).resolves.toBe('The request was not accepted. See the fields marked below.');
      await expect(page.locator('#consentObtainedBy-error').textContent()).resolves.toBe('Practitioner/nobody-here is not known');
      await expect(by.getAttribute('aria-invalid')).resolves.toBe('true');
      // Chromium logs every refused load as a console error: this one, provoked on purpose, and nothing else.
      expect([problems.csp, problems.errors, problems.console]).toEqual([[], [], [expect.stringMatching(/status of 400 .*\/fhir\/Patient\/[^/]+\/\$ccp-register/)]]);
      problems.clear();
      await screen(page, undefined, problems);

      // Back to the default: the consent is the signed-in practitioner's (their fhirUser).
      await page.getByLabel('Me, the signed-in practitioner').check();
      await expect(page.locator('#consentObtainedBy-error').count()).resolves.toBe(0);
      await page.getByLabel('View and change the plan').check();
      await page.getByRole('button', { name: 'Request access' }).click();
      await expect(page.getByRole('status').filter({ hasText: 'Request sent' }).textContent()).resolves.toBe('Request sent: the hosting organization’s coordinators will review it.');
      expect(await page.getByText(goal).count()).toBe(0);
      await screen(page, undefined, problems);
    } finally {
      await context.close();
    }

    // The hosting side (the first start's backend client, as an administrator's tool) finds the request waiting for
    // review: a Task from the partner's organization, its Consent proposed with the consent the form stated.
    const res = await fetch(`${allowed.origin}/auth/token`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`${allowed.credentials.clientId}:${allowed.credentials.clientSecret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'system/*.rs' }).toString(),
    });
    const token = ((await res.json()) as { access_token: string }).access_token;
    const read = async <T,>(query: string): Promise<T> => {
      const answer = await fetch(`${allowed.origin}/fhir/${query}`, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/fhir+json' } });
      expect([query, answer.status]).toEqual([query, 200]);
      return (await answer.json()) as T;
    };
    const tasks = await read<Bundle<Task>>(`Task?patient=Patient/${patient}&status=requested`);
    expect(tasks.entry?.map((entry) => entry.resource?.requester?.reference)).toEqual([`Organization/${partner.organizationId}`]);
    const task = tasks.entry![0].resource!;
    expect(task.input?.find((input) => input.type.text === 'access level')?.valueCode).toBe('modify');
    const consent = await read<Consent>(task.focus!.reference!);
    expect(consent.status).toBe('proposed');
    const stated = consent.extension?.find((extension) => extension.url.endsWith('/express-consent'))?.extension;
    expect(stated?.find((part) => part.url === 'obtainedBy')?.valueReference?.reference).toBe(`Practitioner/${partner.practitionerId}`);
    expect(stated?.find((part) => part.url === 'method')?.valueCode).toBe('verbal');
  });

  it("coordinators: the queue of registration requests; one approved, one rejected with a reason, the organization disengaged; a partner's nurse refused in words", async () => {
    const store = allowed.server.context.store;
    const { patient: first } = await plantPlan(allowed, 'Nakamura', 'Manage breathlessness at home');
    const { patient: second } = await plantPlan(allowed, 'Haddad', 'Climb the stairs at home again');
    const organization = (await store.create({ resourceType: 'Organization', active: true, name: 'Riverside Home Care' } as Organization)).id!;
    const nurse = (await store.create({ resourceType: 'Practitioner', active: true, name: [{ given: ['Nora'], family: 'Lee' }] } as Practitioner)).id!;
    // The partner's back end, bound to its organization through the admin API (as bench/partner.mjs sets one up).
    const admin = await clientToken(allowed, allowed.credentials.clientId, allowed.credentials.clientSecret, 'system/*.cruds admin');
    const partnerScope = 'system/Patient.rs system/Task.c';
    const registered = await fetch(`${allowed.origin}/auth/admin/clients`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_id: 'home-care-system', client_name: 'Riverside Home Care', kind: 'backend', token_endpoint_auth_method: 'client_secret_basic', scope: partnerScope, organization: `Organization/${organization}` }),
    });
    expect(registered.status).toBe(201);
    const partner = await clientToken(allowed, 'home-care-system', ((await registered.json()) as { client_secret: string }).client_secret, partnerScope);
    const consentObtainedAt = '2026-12-01T09:30:00Z';
    const register = async (patient: string, level: 'view' | 'modify'): Promise<string> => {
      const res = await fhir(allowed, partner, 'POST', `Patient/${patient}/$ccp-register`, {
        resourceType: 'Parameters',
        parameter: [
          { name: 'level', valueCode: level },
          { name: 'consentObtainedBy', valueReference: { reference: `Practitioner/${nurse}` } },
          { name: 'consentObtainedAt', valueDateTime: consentObtainedAt },
          { name: 'consentMethod', valueCode: 'verbal' },
        ],
      });
      expect(res.status).toBe(201);
      return (res.body as Parameters).parameter!.find((p) => p.name === 'task')!.resource!.id!;
    };
    const approved = await register(first, 'view');

    const { context, problems } = await watchedContext(chromium, { viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      // The Terms of Use once per user: accepted already when the other flows ran first.
      await launchStandalone(page, allowed.origin, { username: 'admin', password: allowed.credentials.password }, /Nakamura/, 'if-new');

      // The administrator's granted scope lets them update Tasks: the header offers the queue.
      await page.getByRole('banner').getByRole('link', { name: 'Registration requests' }).click();
      await expectHeading(page, 'Registration requests');
      const waiting = page.getByRole('region', { name: 'Waiting for review' });
      const request = (name: string) => waiting.getByRole('listitem').filter({ has: page.getByRole('heading', { level: 3, name }) });
      await request('Ana Nakamura').waitFor();
      await expect(request('Ana Nakamura').locator('dl').innerText()).resolves.toMatch(/Organization\s+Riverside Home Care\s+Access\s+View\s+Consent obtained by\s+Nora Lee\s+Consent obtained\s+2026-12-0[12] \d\d:30, verbally\s+Requested\s+\d{4}-/);
      await screen(page, screenshots ? 'requests' : undefined, problems);

      await request('Ana Nakamura').getByRole('button', { name: 'Approve' }).click();
      await page.getByRole('status').filter({ hasText: 'Approved' }).waitFor();
      // Gone from the waiting list (other tests of this file leave requests of their own there).
      await request('Ana Nakamura').waitFor({ state: 'detached' });
      await page.getByRole('region', { name: 'Approved registrations' }).getByRole('heading', { level: 3, name: 'Ana Nakamura: Riverside Home Care' }).waitFor();

      // A second request, made while the queue is open: it shows after a reload (the session stays in the tab).
      const rejected = await register(second, 'modify');
      await page.reload();
      await expectHeading(page, 'Registration requests');
      await request('Ana Haddad').getByRole('button', { name: 'Reject' }).click();
      const reason = page.getByLabel('Reason for rejecting (required)');
      await expect(reason.evaluate((field) => field === document.activeElement)).resolves.toBe(true);
      // No reason: the error is tied to the field, and nothing is sent.
      await page.getByRole('button', { name: 'Reject request' }).click();
      await expect(reason.getAttribute('aria-invalid')).resolves.toBe('true');
      await expect(page.locator(`#${await reason.getAttribute('aria-describedby')}`).textContent()).resolves.toBe('Enter the reason for rejecting this request.');
      await screen(page, undefined, problems);
      await reason.fill('The patient is not in home care');
      await page.getByRole('button', { name: 'Reject request' }).click();
      await page.getByRole('status').filter({ hasText: 'Rejected' }).waitFor();
      await request('Ana Haddad').waitFor({ state: 'detached' });
      await screen(page, undefined, problems);

      // What the server recorded (docs/CONSENT.md, Review): the first approved, the second rejected with the reason.
      const task = async (id: string) => (await fhir(allowed, admin, 'GET', `Task/${id}`)).body as Task;
      const consentOf = async (t: Task) => (await fhir(allowed, admin, 'GET', t.focus!.reference!)).body as Consent;
      const [one, two] = [await task(approved), await task(rejected)];
      expect([one.status, one.businessStatus?.text, (await consentOf(one)).status]).toEqual(['completed', 'approved', 'active']);
      expect([two.status, two.businessStatus?.text, two.statusReason?.text, (await consentOf(two)).status]).toEqual(['rejected', 'rejected', 'The patient is not in home care', 'rejected']);

      // Disengagement: the approved registration ends now.
      await page.getByRole('region', { name: 'Approved registrations' }).getByRole('button', { name: 'Disengage the organization' }).click();
      await page.getByRole('status').filter({ hasText: 'Disengaged' }).waitFor();
      await page.getByText('No organization has an approved registration.').waitFor();
      await screen(page, undefined, problems);
      expect((await consentOf(one)).status).toBe('inactive');
    } finally {
      await context.close();
    }

    // The partner's own nurse: her granted scope (user/*.cruds) shows her the link, and she may read her organization's
    // request, but the server refuses her decision (403), and the screen says so in words.
    const role = (await store.create({
      resourceType: 'PractitionerRole',
      active: true,
      practitioner: { reference: `Practitioner/${nurse}` },
      organization: { reference: `Organization/${organization}` },
      code: [{ coding: [{ system: 'http://ccp-exchange.org/fhir/CodeSystem/user-role', code: 'contributor' }] }],
    } as PractitionerRole)).id!;
    const account = await fetch(`${allowed.origin}/auth/admin/users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'nora', password: 'home care nurse password', practitioner_role: `PractitionerRole/${role}` }),
    });
    expect(account.status).toBe(201);
    const own = await register(first, 'view');
    const partnerBrowser = await watchedContext(chromium, { viewport: { width: 1280, height: 900 } });
    try {
      const page = await partnerBrowser.context.newPage();
      await launchStandalone(page, allowed.origin, { username: 'nora', password: 'home care nurse password' }, /Nakamura/, 'first');
      await page.getByRole('banner').getByRole('link', { name: 'Registration requests' }).click();
      await expectHeading(page, 'Registration requests');
      await page.getByRole('region', { name: 'Waiting for review' }).getByRole('button', { name: 'Approve' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toMatch(/^You may not approve registration requests: only the hosting organization’s coordinators may\. The server said: .+/);
      // The refused request is the page's only problem (Chromium logs each failed load as a console error).
      expect(partnerBrowser.problems.all()).toEqual([expect.stringMatching(new RegExp(`status of 403 .*/fhir/Task/${own}/\\$approve`))]);
      partnerBrowser.problems.clear();
      await screen(page, undefined, partnerBrowser.problems);
      expect(((await fhir(allowed, admin, 'GET', `Task/${own}`)).body as Task).status).toBe('requested');
    } finally {
      await partnerBrowser.context.close();
    }
  });
});

/** The frame `parent` shows whose address matches `url`, once it is there. */
async function childFrame(parent: Frame, url: RegExp): Promise<Frame> {
  for (let tries = 0; tries < 150; tries++) {
    const found = parent.childFrames().find((child) => url.test(child.url()));
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no frame at ${url} in ${parent.url()}: ${parent.childFrames().map((child) => child.url()).join(', ') || 'no frames'}`);
}

async function expectHeading(page: Page | Frame, text: string): Promise<void> {
  await page.getByRole('heading', { level: 1, name: text }).waitFor({ timeout: 15_000 });
}

/**
 * A standalone launch of the app up to its plan screen: sign in, the Terms of Use (`first`: a user's first sign-in,
 * so they must show; `if-new`: accepted already when an earlier flow of the file signed this user in), the patient,
 * the approval.
 */
async function launchStandalone(page: Page, origin: string, user: { username: string; password: string }, patient: RegExp, terms: 'first' | 'if-new'): Promise<void> {
  await page.goto(`${origin}/app/`);
  await expectHeading(page, 'Sign in');
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (terms === 'first') {
    await expectHeading(page, 'Terms of Use');
    await page.getByRole('button', { name: 'I accept' }).click();
  } else {
    const next = page.getByRole('heading', { level: 1, name: /^(Terms of Use|Choose a patient)$/ });
    await next.waitFor({ timeout: 15_000 });
    if ((await next.textContent()) === 'Terms of Use') await page.getByRole('button', { name: 'I accept' }).click();
  }
  await expectHeading(page, 'Choose a patient');
  await page.getByLabel(patient).check();
  await page.getByRole('button', { name: 'Choose this patient' }).click();
  await expectHeading(page, 'Allow access?');
  await page.getByRole('button', { name: 'Allow' }).click();
  await expectHeading(page, 'Care plan');
}

/** A client-credentials token of a backend client (`client_secret_basic`). */
async function clientToken(running: RunningServer, clientId: string, secret: string, scope: string): Promise<string> {
  const res = await fetch(`${running.origin}/auth/token`, {
    method: 'POST',
    headers: { Authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token for ${clientId}: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

async function fhir(running: RunningServer, token: string, method: 'GET' | 'POST', route: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${running.origin}/fhir/${route}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/fhir+json', ...(body ? { 'Content-Type': 'application/fhir+json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json() };
}
