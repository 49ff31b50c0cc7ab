import type { AuditEvent } from 'fhir/r4';
import request from 'supertest';
import { hashPassword } from '../../server/auth/secrets.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, schemaValidator, type TestServer } from '../support/fhir-app.js';
import { Browser, authorizeThrough, authorizeUrl, exchangeCode, location, person, type Person, pkce, registerApp } from '../support/smart-flow.js';
import { eventsSince, storedEvents } from './audit-support.js';

reportBackends();

const BASE = 'https://ccp.test/fhir';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';

describe.each(BACKENDS)('sign-in, sign-out and token issue are audited, on $name', (backend) => {
  let server: TestServer;
  let nurse: Person;
  beforeAll(async () => {
    server = await openTestServer(backend, { baseUrl: BASE, auth: true });
    nurse = await person(server, 'robin', ['viewer']);
    await registerApp(server, { clientId: 'ehr-app' });
  });
  afterAll(async () => server?.close());

  async function recorded(work: () => Promise<unknown>): Promise<AuditEvent[]> {
    const before = (await storedEvents(server.db)).length;
    await work();
    return eventsSince(server.db, before);
  }
  const authentication = (events: AuditEvent[], code: string) => events.filter((e) => e.type.code === '110114' && e.subtype?.[0].code === code);

  it('a failed sign-in is recorded without the username typed; a successful one names the user and the app', async () => {
    const browser = new Browser(server);
    const { challenge } = pkce();
    const interaction = location(await browser.get(authorizeUrl({ client_id: 'ehr-app', scope: 'openid fhirUser user/Patient.rs', aud: BASE, state: 's', code_challenge: challenge })));
    const failed = await recorded(() => browser.post(`${interaction}/sign-in`, { username: nurse.username, password: 'wrong password' }));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ type: { system: DCM, code: '110114' }, subtype: [{ system: DCM, code: '110122' }], action: 'E', outcome: '4' });
    expect(failed[0].agent.map((agent) => agent.who)).toEqual([{ display: 'unidentified user' }, { identifier: { system: 'http://ccp-exchange.org/fhir/sid/client-id', value: 'ehr-app' } }]);
    expect(JSON.stringify(failed[0])).not.toContain(nurse.username);
    expect(JSON.stringify(failed[0])).not.toContain('wrong password');

    const signedIn = await recorded(() => browser.post(`${interaction}/sign-in`, { username: nurse.username, password: nurse.password }));
    const [login] = authentication(signedIn, '110122');
    expect(login).toMatchObject({ outcome: '0', agent: [{ altId: nurse.userId, requestor: true }, { who: { identifier: { value: 'ehr-app' } }, requestor: false }] });
    expect(JSON.stringify(login)).not.toContain(nurse.password);
  });

  it('a token issued by the code flow names the user, their Practitioner and organization, and the app; a token is never recorded', async () => {
    const { verifier, challenge } = pkce();
    const browser = new Browser(server);
    const redirect = await authorizeThrough(browser, { client_id: 'ehr-app', scope: 'openid fhirUser user/Patient.rs', aud: BASE, state: 's', code_challenge: challenge }, nurse);
    let token: request.Response | undefined;
    const events = await recorded(async () => {
      token = await exchangeCode(server, { code: redirect.searchParams.get('code')!, code_verifier: verifier, client_id: 'ehr-app' });
    });
    expect(token!.status).toBe(200);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: { code: '110114' }, subtype: [{ system: 'http://ccp-exchange.org/fhir/CodeSystem/token-grant', code: 'authorization_code' }], outcome: '0' });
    expect(events[0].agent.map((agent) => agent.who?.reference ?? agent.who?.identifier?.value)).toEqual([
      `Practitioner/${nurse.practitionerId}`,
      `Organization/${nurse.organizationId}`,
      'ehr-app',
    ]);
    expect(JSON.stringify(events[0])).not.toContain(token!.body.access_token);

    const signedOut = await recorded(() => browser.post('/auth/sign-out', {}));
    expect(authentication(signedOut, '110123')).toMatchObject([{ outcome: '0', agent: [{ altId: nurse.userId }] }]);
  });

  it('a backend client_credentials token names the client as requestor', async () => {
    await server.auth!.clients.save({
      clientId: 'batch', name: 'Batch', kind: 'backend', authMethod: 'client_secret_basic', redirectUris: [], scope: 'system/Patient.rs', active: true, source: 'api',
      secretHash: await hashPassword('batch-secret'),
    });
    const events = await recorded(async () => {
      const res = await request(server.app).post('/auth/token').auth('batch', 'batch-secret').type('form').send({ grant_type: 'client_credentials', scope: 'system/Patient.rs' });
      expect(res.status).toBe(200);
    });
    expect(events).toHaveLength(1);
    expect(events[0].subtype![0].code).toBe('client_credentials');
    expect(events[0].agent).toEqual([expect.objectContaining({ who: { identifier: { system: 'http://ccp-exchange.org/fhir/sid/client-id', value: 'batch' } }, requestor: true })]);
  });

  it('every authentication event is a valid R4 AuditEvent (official JSON schema)', async () => {
    const events = (await storedEvents(server.db)).filter((event) => event.type.code === '110114');
    expect(events.length).toBeGreaterThanOrEqual(5);
    for (const event of events) expect(schemaValidator().validate(event as never, 'AuditEvent')).toEqual([]);
  });
});
