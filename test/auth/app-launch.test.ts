import type { Bundle, CarePlan, Patient } from 'fhir/r4';
import { createLocalJWKSet, jwtVerify } from 'jose';
import request from 'supertest';
import { publishTerms } from '../../server/auth/terms.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { approvedRegistration } from '../support/registration.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { authorizeThrough, Browser, exchangeCode, person, type Person, pkce, registerApp } from '../support/smart-flow.js';

reportBackends();

const BASE = 'https://ccp.test/fhir';
const ROOT = 'https://ccp.test';

describe.each(BACKENDS)('SMART App Launch on $name', (backend) => {
  let server: TestServer;
  let clinician: Person;
  let patient: Patient;
  let other: Patient;
  let plan: CarePlan;
  let othersPlan: CarePlan;
  let ehrToken: string;

  beforeAll(async () => {
    server = await openTestServer(backend, { baseUrl: BASE, auth: true });
    clinician = await person(server, 'casey', ['contributor']);
    patient = await server.context.store.create({
      resourceType: 'Patient', name: [{ family: 'Rivera', given: ['Ana'] }], birthDate: '1950-02-03',
      identifier: [
        { system: 'urn:example:insurer', value: 'INS-1' },
        // Markup in a value must reach the page as text.
        { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }], text: 'MRN' }, system: 'urn:example:mrn', value: '00<7>&1' },
      ],
    } as Patient) as Patient;
    other = await server.context.store.create({ resourceType: 'Patient', name: [{ family: 'Okafor', given: ['Ben'] }] } as Patient) as Patient;
    plan = await server.context.store.create({
      resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: `Patient/${patient.id}` },
    } as CarePlan) as CarePlan;
    othersPlan = await server.context.store.create({ resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: `Patient/${other.id}` } } as CarePlan) as CarePlan;
    // The clinician's organization is registered for both patients: the launch's patient/ scopes alone keep the other out.
    for (const who of [patient, other]) await approvedRegistration(server.context.store, clinician.organizationId, who.id!);
    await registerApp(server, { clientId: 'ehr-app' });
    await server.auth!.clients.save({
      clientId: 'ehr', name: 'EHR', kind: 'backend', authMethod: 'client_secret_basic', redirectUris: [], scope: 'ehr-launch', active: true, source: 'api',
      secretHash: await (await import('../../server/auth/secrets.js')).hashPassword('ehr-secret'),
    });
    const token = await request(server.app).post('/auth/token').auth('ehr', 'ehr-secret').type('form').send({ grant_type: 'client_credentials', scope: 'ehr-launch' });
    expect(token.status).toBe(200);
    ehrToken = token.body.access_token;
  });
  afterAll(() => server.close());

  it('EHR launch: the launch context comes back with the token, and the token reads only that patient (patient/ scopes)', async () => {
    const launch = await request(server.app).post('/auth/admin/launch').set('Authorization', `Bearer ${ehrToken}`)
      .send({ patient: patient.id, fhirContext: [{ reference: `CarePlan/${plan.id}` }] });
    expect(launch.status).toBe(201);

    const { verifier, challenge } = pkce();
    const browser = new Browser(server);
    const redirect = await authorizeThrough(browser, {
      client_id: 'ehr-app', scope: 'launch openid fhirUser patient/CarePlan.rs patient/Patient.r', aud: BASE, state: 'st-1',
      launch: launch.body.launch, code_challenge: challenge, nonce: 'n-1',
    }, clinician);
    expect(redirect.origin + redirect.pathname).toBe('https://app.test/callback');
    expect(redirect.searchParams.get('state')).toBe('st-1');

    const token = await exchangeCode(server, { code: redirect.searchParams.get('code')!, code_verifier: verifier, client_id: 'ehr-app' });
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({
      token_type: 'Bearer', expires_in: 3600, scope: 'launch openid fhirUser patient/CarePlan.rs patient/Patient.r',
      patient: patient.id, fhirContext: [{ reference: `CarePlan/${plan.id}` }], need_patient_banner: false,
    });
    expect(token.body.refresh_token).toBeUndefined();

    // The id_token: signed with our published key, for this app, naming the user's Practitioner.
    const jwks = (await request(server.app).get('/auth/jwks')).body;
    const { payload } = await jwtVerify(token.body.id_token, createLocalJWKSet(jwks), { issuer: ROOT, audience: 'ehr-app', algorithms: ['RS256'] });
    expect(payload).toMatchObject({ sub: clinician.userId, nonce: 'n-1', fhirUser: `${BASE}/Practitioner/${clinician.practitionerId}` });

    const auth = { Authorization: `Bearer ${token.body.access_token}` };
    const plans = await request(server.app).get('/fhir/CarePlan').set(auth);
    expect(plans.status).toBe(200);
    expect((plans.body as Bundle).entry!.map((entry) => entry.resource!.id)).toEqual([plan.id]);
    expect((await request(server.app).get(`/fhir/Patient/${patient.id}`).set(auth)).status).toBe(200);
    expect((await request(server.app).get(`/fhir/Patient/${other.id}`).set(auth)).status).toBe(404);
    // Granted r only on Patient: no search, no writes.
    expect((await request(server.app).get('/fhir/Patient').set(auth)).status).toBe(403);
  });

  it('standalone launch: the patient picker lists patients and the choice becomes the context; refresh rotates', async () => {
    const { verifier, challenge } = pkce();
    const browser = new Browser(server);
    let res = await browser.get(`/auth/authorize?${new URLSearchParams({
      response_type: 'code', client_id: 'ehr-app', redirect_uri: 'https://app.test/callback', scope: 'launch/patient patient/CarePlan.rs offline_access',
      aud: BASE, state: 'st-2', code_challenge: challenge, code_challenge_method: 'S256',
    })}`);
    const interaction = res.headers.location as string;
    res = await browser.get(interaction);
    expect(res.text).toContain('<h1>Sign in</h1>');
    res = await browser.post(`${interaction}/sign-in`, { username: clinician.username, password: clinician.password });
    expect(res.status).toBe(303);
    expect(browser.cookies.has('ccp_session')).toBe(true);
    expect((res.headers['set-cookie'] as unknown as string[]).join()).toMatch(/ccp_session=.*HttpOnly.*Secure.*SameSite=Lax/);
    res = await browser.get(interaction);
    expect(res.text).toContain('<h1>Choose a patient</h1>');
    expect(res.text).toContain('Ana Rivera');
    expect(res.text).toContain('Ben Okafor');
    // Beside each name, what tells two namesakes apart: birth date and an identifier (the MRN first), escaped.
    const ana = /<label>(?:(?!<\/label>).)*Ana Rivera.*?<\/label>/s.exec(res.text)?.[0];
    expect(ana).toContain('Ana Rivera, born 1950-02-03, MRN 00&lt;7&gt;&amp;1</label>');
    expect(res.text).not.toContain('00<7>');
    res = await browser.get(`${interaction}?name=Rivera`);
    expect(res.text).toContain('Ana Rivera');
    expect(res.text).not.toContain('Ben Okafor');
    res = await browser.post(`${interaction}/patient`, { patient: patient.id! });
    res = await browser.get(interaction);
    expect(res.text).toContain('<h1>Allow access?</h1>');
    res = await browser.post(`${interaction}/approve`, { answer: 'approve' });
    res = await browser.get(interaction);
    const redirect = new URL(res.headers.location as string);

    const token = await exchangeCode(server, { code: redirect.searchParams.get('code')!, code_verifier: verifier, client_id: 'ehr-app' });
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({ patient: patient.id, need_patient_banner: true, scope: 'launch/patient patient/CarePlan.rs offline_access' });
    expect(token.body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const refreshed = await request(server.app).post('/auth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: token.body.refresh_token, client_id: 'ehr-app' });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(token.body.refresh_token);
    expect(refreshed.body.patient).toBe(patient.id);
    const plans = await request(server.app).get('/fhir/CarePlan').set('Authorization', `Bearer ${refreshed.body.access_token}`);
    expect((plans.body as Bundle).entry!.map((entry) => entry.resource!.id)).toEqual([plan.id]);
  });

  it('writes under a patient/ scope: only inside the launch patient\'s compartment; a refused write leaves nothing', async () => {
    const launch = await request(server.app).post('/auth/admin/launch').set('Authorization', `Bearer ${ehrToken}`).send({ patient: patient.id });
    const { verifier, challenge } = pkce();
    const redirect = await authorizeThrough(new Browser(server), {
      client_id: 'ehr-app', scope: 'launch patient/CarePlan.cruds', aud: BASE, state: 's', launch: launch.body.launch, code_challenge: challenge,
    }, clinician);
    const token = await exchangeCode(server, { code: redirect.searchParams.get('code')!, code_verifier: verifier, client_id: 'ehr-app' });
    const auth = { Authorization: `Bearer ${token.body.access_token}`, 'Content-Type': 'application/fhir+json' };
    const planFor = (who: Patient, extra: Partial<CarePlan> = {}): CarePlan => ({ resourceType: 'CarePlan', status: 'draft', intent: 'plan', subject: { reference: `Patient/${who.id}` }, ...extra });
    const count = async () => (await server.db.query("SELECT count(*)::int AS n FROM resource WHERE resource_type = 'CarePlan'"))[0] as { n: number };

    const created = await request(server.app).post('/fhir/CarePlan').set(auth).send(planFor(patient));
    expect(created.status).toBe(201);
    const before = (await count()).n;
    const elsewhere = await request(server.app).post('/fhir/CarePlan').set(auth).send(planFor(other));
    expect(elsewhere.status).toBe(403);
    expect((await count()).n).toBe(before);

    const updated = await request(server.app).put(`/fhir/CarePlan/${created.body.id}`).set(auth).send({ ...planFor(patient), id: created.body.id, status: 'active' });
    expect(updated.status).toBe(200);
    // Moving the plan to another patient would take it out of reach: refused, and the stored version is unchanged.
    const moved = await request(server.app).put(`/fhir/CarePlan/${created.body.id}`).set(auth).send({ ...planFor(other), id: created.body.id });
    expect(moved.status).toBe(403);
    const stored = await server.context.store.read('CarePlan', created.body.id);
    expect(stored.kind === 'found' && (stored.resource as CarePlan).subject.reference).toBe(`Patient/${patient.id}`);
    expect(stored.kind === 'found' && stored.resource.meta?.versionId).toBe('2');
    // Another patient's plan is not found, for writes as for reads.
    const hidden = await request(server.app).put(`/fhir/CarePlan/${othersPlan.id}`).set(auth).send({ ...planFor(other), id: othersPlan.id, status: 'revoked' });
    expect(hidden.status).toBe(404);
    // Conditional writes search first: refused under a restricted grant.
    expect((await request(server.app).post('/fhir/CarePlan').set({ ...auth, 'If-None-Exist': `subject=Patient/${patient.id}` }).send(planFor(patient))).status).toBe(403);
  });

  it('Terms of Use: a published version is shown and acceptance recorded; a new version asks again', async () => {
    await publishTerms(server.db, 'Terms v-A');
    const walk = async () => {
      const { challenge } = pkce();
      const browser = new Browser(server);
      const seen: string[] = [];
      let res = await browser.get(`/auth/authorize?${new URLSearchParams({
        response_type: 'code', client_id: 'ehr-app', redirect_uri: 'https://app.test/callback', scope: 'openid fhirUser',
        aud: BASE, state: 's', code_challenge: challenge, code_challenge_method: 'S256',
      })}`);
      const interaction = res.headers.location as string;
      res = await browser.get(interaction);
      res = await browser.post(`${interaction}/sign-in`, { username: clinician.username, password: clinician.password });
      res = await browser.get(interaction);
      seen.push(/<h1>([^<]*)<\/h1>/.exec(res.text)![1]);
      return { browser, interaction, res, seen };
    };
    const first = await walk();
    expect(first.seen).toEqual(['Terms of Use']);
    expect(first.res.text).toContain('Terms v-A');
    await first.browser.post(`${first.interaction}/terms`, { version: /name="version" value="(\d+)"/.exec(first.res.text)![1], answer: 'accept' });
    expect((await first.browser.get(first.interaction)).text).toContain('<h1>Allow access?</h1>');
    const accepted = await server.db.query<{ accepted_at: Date }>('SELECT accepted_at FROM auth_terms_acceptance WHERE user_id = $1', [clinician.userId]);
    expect(accepted).toHaveLength(1);

    expect((await walk()).seen).toEqual(['Allow access?']);
    await publishTerms(server.db, 'Terms v-B');
    const again = await walk();
    expect(again.seen).toEqual(['Terms of Use']);
    expect(again.res.text).toContain('Terms v-B');
    // Declining ends the request with access_denied for the app, and no code.
    const declined = await again.browser.post(`${again.interaction}/terms`, { version: /name="version" value="(\d+)"/.exec(again.res.text)![1], answer: 'decline' });
    const back = new URL(declined.headers.location as string);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('code')).toBeNull();
    await server.db.query('DELETE FROM auth_terms_acceptance');
    await server.db.query('DELETE FROM auth_terms');
  });
});
