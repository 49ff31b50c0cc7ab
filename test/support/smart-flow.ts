import { createHash, randomBytes } from 'node:crypto';
import type { Organization, Practitioner, PractitionerRole } from 'fhir/r4';
import request from 'supertest';
import { ROLE_SYSTEM } from '../../server/access/roles.js';
import type { Client } from '../../server/auth/clients.js';
import { hashPassword } from '../../server/auth/secrets.js';
import type { TestServer } from './fhir-app.js';

/**
 * Drives the authorization endpoint as a browser and a SMART app do, against the in-process app: a cookie jar
 * (the session cookie is Secure, which supertest's own jar would not send over http), PKCE, state, and one
 * function per page.
 */

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The cookies a browser keeps between requests (name → value), honouring Max-Age=0 / expiry deletions. */
export class Browser {
  readonly cookies = new Map<string, string>();

  /** `server.app` is the in-process app, or the origin of a server process (`http://127.0.0.1:port`). */
  constructor(private readonly server: { app: TestServer['app'] | string }) {}

  private remember(res: request.Response): void {
    const setCookies = res.headers['set-cookie'] as unknown as string[] | undefined;
    for (const line of setCookies ?? []) {
      const [pair, ...attributes] = line.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = decodeURIComponent(pair.slice(pair.indexOf('=') + 1));
      const expired = attributes.some((attribute) => /^\s*expires=Thu, 01 Jan 1970/i.test(attribute) || /^\s*max-age=0\s*$/i.test(attribute));
      if (expired || !value) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('; ');
  }

  async get(path: string): Promise<request.Response> {
    const res = await request(this.server.app).get(path).set('Cookie', this.cookieHeader()).redirects(0);
    this.remember(res);
    return res;
  }

  async post(path: string, form: Record<string, string>): Promise<request.Response> {
    const res = await request(this.server.app).post(path).set('Cookie', this.cookieHeader()).type('form').send(form).redirects(0);
    this.remember(res);
    return res;
  }
}

/** The page's <h1>: which step the authorization is at. */
export function pageTitle(res: request.Response): string | undefined {
  return /<h1>([^<]*)<\/h1>/.exec(res.text)?.[1];
}

/** A redirect's target, as a path for the in-process app or an absolute URL to the client. */
export function location(res: request.Response): string {
  const target = res.headers.location as string | undefined;
  if (!target) throw new Error(`expected a redirect, got ${res.status}: ${pageTitle(res) ?? res.text.slice(0, 200)}`);
  return target;
}

export interface Person {
  username: string;
  password: string;
  userId: string;
  practitionerId: string;
  practitionerRoleId: string;
  organizationId: string;
}

/** An organization, a practitioner with a PractitionerRole of `roles` there, and a local account for them. */
export async function person(server: TestServer, username: string, roles: string[], password = 'correct horse battery'): Promise<Person> {
  const store = server.context.store;
  const organization = await store.create({ resourceType: 'Organization', active: true, name: `${username}'s organization` } as Organization);
  const practitioner = await store.create({ resourceType: 'Practitioner', active: true, name: [{ family: username, given: ['Test'] }] } as Practitioner);
  const role = await store.create({
    resourceType: 'PractitionerRole',
    active: true,
    practitioner: { reference: `Practitioner/${practitioner.id}` },
    organization: { reference: `Organization/${organization.id}` },
    code: [{ coding: roles.map((code) => ({ system: ROLE_SYSTEM, code })) }],
  } as PractitionerRole);
  const user = await server.auth!.users.create({ username, password, practitionerRoleId: role.id! });
  return { username, password, userId: user.id, practitionerId: practitioner.id!, practitionerRoleId: role.id!, organizationId: organization.id! };
}

/** A SMART app's registration. */
export async function registerApp(server: TestServer, client: Partial<Client> & { clientId: string }, secret?: string): Promise<Client> {
  const registered: Client = {
    name: `App ${client.clientId}`,
    kind: secret ? 'confidential' : 'public',
    authMethod: secret ? 'client_secret_basic' : 'none',
    redirectUris: ['https://app.test/callback'],
    scope: 'openid fhirUser launch launch/patient offline_access online_access patient/*.cruds user/*.cruds',
    active: true,
    source: 'api',
    ...client,
    secretHash: secret ? await hashPassword(secret) : undefined,
  };
  await server.auth!.clients.save(registered);
  return registered;
}

export interface AuthorizeParams {
  client_id: string;
  scope: string;
  redirect_uri?: string;
  aud: string;
  state?: string;
  launch?: string;
  code_challenge?: string;
  code_challenge_method?: string;
  response_type?: string;
  nonce?: string;
  prompt?: string;
}

export function authorizeUrl(params: AuthorizeParams): string {
  const query = new URLSearchParams({ response_type: 'code', code_challenge_method: 'S256', redirect_uri: 'https://app.test/callback', ...params } as Record<string, string>);
  return `/auth/authorize?${query}`;
}

/**
 * Walks an authorization through its pages like a user who signs in with `user`, accepts the terms, picks
 * `patient` if asked, and approves. Returns the final redirect to the app.
 */
export async function authorizeThrough(
  browser: Browser,
  params: AuthorizeParams,
  user: { username: string; password: string } | undefined,
  choices: { patient?: string; approve?: boolean; acceptTerms?: boolean } = {},
): Promise<URL> {
  let res = await browser.get(authorizeUrl(params));
  for (let step = 0; step < 10; step++) {
    const target = location(res);
    if (!target.startsWith('/auth/interaction/')) return new URL(target);
    const interaction = target.split('?')[0];
    res = await browser.get(target);
    if (res.status === 303) continue;
    switch (pageTitle(res)) {
      case 'Sign in':
        if (!user) throw new Error('asked to sign in');
        res = await browser.post(`${interaction}/sign-in`, { username: user.username, password: user.password });
        break;
      case 'Terms of Use':
        res = await browser.post(`${interaction}/terms`, { version: /name="version" value="(\d+)"/.exec(res.text)![1], answer: choices.acceptTerms === false ? 'decline' : 'accept' });
        break;
      case 'Choose a patient':
        if (!choices.patient) throw new Error('asked to choose a patient');
        res = await browser.post(`${interaction}/patient`, { patient: choices.patient });
        break;
      case 'Allow access?':
        res = await browser.post(`${interaction}/approve`, { answer: choices.approve === false ? 'deny' : 'approve' });
        break;
      default:
        throw new Error(`unexpected page ${res.status}: ${pageTitle(res)}`);
    }
  }
  throw new Error('the authorization did not finish');
}

export async function exchangeCode(
  server: { app: TestServer['app'] | string },
  form: { code: string; code_verifier: string; client_id?: string; redirect_uri?: string },
  basic?: [string, string],
): Promise<request.Response> {
  const req = request(server.app)
    .post('/auth/token')
    .type('form')
    .send({ grant_type: 'authorization_code', redirect_uri: 'https://app.test/callback', ...form });
  return basic ? req.auth(basic[0], basic[1]) : req;
}
