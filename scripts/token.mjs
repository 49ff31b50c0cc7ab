#!/usr/bin/env node
// An access token from a CCP Exchange server, printed alone on stdout, for curl and scripts:
//
//   TOKEN=$(npm run -s token -- --user coordinator --password "$COORDINATOR_PASSWORD")
//   TOKEN=$(npm run -s token -- --client local-admin --secret "$LOCAL_ADMIN_SECRET" --scope 'system/*.cruds admin')
//   npm run -s token -- --new-key viewer.jwk > viewer-jwks.json
//   TOKEN=$(npm run -s token -- --client viewer-on --key viewer.jwk --scope 'system/*.rs')
//
// A backend client gets its token with client_credentials: client_secret_basic, or SMART Backend Services'
// private_key_jwt (an ES384 assertion signed with the client's key, made by --new-key). A user goes through the server's
// real pages as a browser would, for a SMART app (the demo's public demo-app by default): the authorization
// request with PKCE (S256) and state, the sign-in form, the Terms of Use, the approval, then the code exchange.
// Plain Node 20 (global fetch), no dependency and no build step. Errors: one line on stderr, exit code 1.
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const DEFAULT_ROOT = 'http://localhost:8080';
const DEFAULT_USER_SCOPE = 'openid fhirUser user/*.cruds';
// Each backend client is granted those of these it is registered for (local-admin both, home-care-emr the second).
const DEFAULT_CLIENT_SCOPE = 'system/*.cruds system/*.rs';
const DEMO_APP = 'demo-app';
const DEMO_APP_REDIRECT = 'http://127.0.0.1/demo-app/callback';
const MOST_PAGES = 12;

const USAGE = `usage:
  npm run -s token -- --user NAME --password PASSWORD [--scope SCOPE] [--client demo-app] [--secret SECRET]
                      [--redirect-uri URI] [--patient ID] [--url ROOT]
  npm run -s token -- --client ID --secret SECRET [--scope SCOPE] [--url ROOT]
  npm run -s token -- --client ID --key FILE [--scope SCOPE] [--url ROOT]
  npm run -s token -- --new-key FILE

Prints an access token of the CCP Exchange server at ROOT (--url, else $CCP_URL, else ${DEFAULT_ROOT}).
  --user        signs in on the server's pages as that user, for the SMART app --client (default ${DEMO_APP},
                redirect ${DEMO_APP_REDIRECT}; another app needs its --redirect-uri, and --secret
                if it is confidential), accepts the Terms of Use and approves; scope default '${DEFAULT_USER_SCOPE}'
                (an administrator adds 'admin' for the admin API). --patient answers the patient picker
                (launch/patient scopes).
  --client      without --user: a backend client's token (client_credentials, client_secret_basic); scope
                default '${DEFAULT_CLIENT_SCOPE}' (each client gets those it is registered for). With --key
                instead of --secret: SMART Backend Services (private_key_jwt), the assertion signed with the
                private key in FILE.
  --new-key     writes a new ES384 private key (a JWK) to FILE, which must not exist yet, and prints the public
                key set (JWKS) to register the client with (docs/SECURITY.md).
Errors are one line on stderr, with exit code 1; nothing is printed on stdout then.`;

class Failure extends Error {}

/**
 * `--password -x…` as `--password=-x…`: a generated secret or a chosen password may begin with a dash, which
 * parseArgs would otherwise take for an option (and refuse as ambiguous).
 */
function withAttachedValues(argv) {
  const takesValue = new Set(['--user', '--password', '--client', '--secret', '--key', '--new-key', '--scope', '--url', '--redirect-uri', '--patient']);
  const out = [];
  for (let i = 0; i < argv.length; i++) {
    if (takesValue.has(argv[i]) && i + 1 < argv.length) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

async function main(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: withAttachedValues(argv),
      strict: true,
      options: {
        user: { type: 'string' },
        password: { type: 'string' },
        client: { type: 'string' },
        secret: { type: 'string' },
        key: { type: 'string' },
        'new-key': { type: 'string' },
        scope: { type: 'string' },
        url: { type: 'string' },
        'redirect-uri': { type: 'string' },
        patient: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new Failure(`${error.message} (npm run -s token -- --help)`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values['new-key'] !== undefined) {
    process.stdout.write(`${JSON.stringify(newKey(values['new-key']))}\n`);
    return;
  }
  const root = rootOf(values.url ?? process.env.CCP_URL ?? DEFAULT_ROOT);
  let token;
  if (values.user !== undefined) {
    if (values.password === undefined) throw new Failure('--user needs --password (npm run -s token -- --help)');
    token = await userToken(root, values);
  } else if (values.client !== undefined) {
    if (values.secret === undefined && values.key === undefined) throw new Failure('--client needs --secret or --key, or --user and --password for a user (npm run -s token -- --help)');
    token = values.key !== undefined ? await assertedClientToken(root, values) : await clientToken(root, values);
  } else {
    throw new Failure('give --user and --password, or --client and --secret (npm run -s token -- --help)');
  }
  process.stdout.write(`${token}\n`);
}

/** The server's root: what is before /fhir, without a trailing slash. */
function rootOf(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new Failure(`the server URL ${JSON.stringify(text)} is not an absolute URL (e.g. ${DEFAULT_ROOT})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Failure(`the server URL must be http(s), not ${text}`);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '').replace(/\/fhir$/, '');
}

/** fetch, with a network failure said plainly. */
async function request(url, init = {}) {
  try {
    return await fetch(url, { redirect: 'manual', ...init });
  } catch (error) {
    const reason = error.cause?.code ?? error.cause?.message ?? error.message;
    throw new Failure(`cannot reach the server at ${new URL(url).origin} (${reason}): is it running? (npm start; --url or CCP_URL say where)`);
  }
}

/** The SMART configuration: where to authorize and get tokens (SMART App Launch 2, discovery). */
async function endpoints(root) {
  const url = `${root}/fhir/.well-known/smart-configuration`;
  const response = await request(url, { headers: { Accept: 'application/json' } });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok || typeof body?.token_endpoint !== 'string') {
    throw new Failure(`${url} answered ${response.status} without a SMART configuration: is ${root} a CCP Exchange server?`);
  }
  return body;
}

/** The token endpoint's answer: the access token, or the OAuth error it names. */
async function tokenRequest(tokenEndpoint, form, basic) {
  const headers = { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' };
  if (basic) headers.Authorization = `Basic ${Buffer.from(`${formEncode(basic[0])}:${formEncode(basic[1])}`).toString('base64')}`;
  const response = await request(tokenEndpoint, { method: 'POST', headers, body: new URLSearchParams(form).toString() });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Failure(`the token endpoint answered ${response.status} with something other than JSON: ${text.slice(0, 120)}`);
  }
  if (!response.ok || typeof body.access_token !== 'string') {
    throw new Failure(`the token request was refused (${response.status}): ${body.error ?? 'no error code'}: ${body.error_description ?? 'no description'}`);
  }
  return body.access_token;
}

/** RFC 6749 §2.3.1: client id and secret are form-urlencoded before they are joined for Basic. */
function formEncode(text) {
  return encodeURIComponent(text).replace(/%20/g, '+');
}

async function clientToken(root, { client, secret, scope }) {
  const { token_endpoint: tokenEndpoint } = await endpoints(root);
  return tokenRequest(tokenEndpoint, { grant_type: 'client_credentials', scope: scope ?? DEFAULT_CLIENT_SCOPE }, [client, secret]);
}

/** A new P-384 key: the private JWK written to `file` (readable by its owner only), the public key set returned. */
function newKey(file) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const kid = randomUUID();
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'ES384', use: 'sig' };
  try {
    writeFileSync(file, `${JSON.stringify(jwk)}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    throw new Failure(error.code === 'EEXIST' ? `${file} exists already: a key is never overwritten` : `cannot write ${file}: ${error.message}`);
  }
  const { d: _private, ...publicKey } = jwk;
  return { keys: [publicKey] };
}

/** SMART Backend Services: client_credentials with an ES384 client assertion (RFC 7523), five minutes at most. */
async function assertedClientToken(root, { client, key, scope }) {
  let jwk;
  try {
    jwk = JSON.parse(readKey(key));
  } catch (error) {
    throw new Failure(error instanceof Failure ? error.message : `${key} is not a JSON Web Key (make one with --new-key)`);
  }
  if (jwk.alg !== 'ES384' || typeof jwk.d !== 'string') throw new Failure(`${key} is not an ES384 private key (make one with --new-key)`);
  const { token_endpoint: tokenEndpoint } = await endpoints(root);
  const now = Math.floor(Date.now() / 1000);
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signed = `${part({ alg: 'ES384', kid: jwk.kid, typ: 'JWT' })}.${part({ iss: client, sub: client, aud: tokenEndpoint, jti: randomUUID(), iat: now, exp: now + 240 })}`;
  const signature = sign('sha384', Buffer.from(signed), { key: createPrivateKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' });
  return tokenRequest(tokenEndpoint, {
    grant_type: 'client_credentials',
    scope: scope ?? DEFAULT_CLIENT_SCOPE,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: `${signed}.${signature.toString('base64url')}`,
  });
}

function readKey(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new Failure(`cannot read the key ${file}: ${error.code ?? error.message}`);
  }
}

async function userToken(root, options) {
  const client = options.client ?? DEMO_APP;
  const redirectUri = options['redirect-uri'] ?? (client === DEMO_APP ? DEMO_APP_REDIRECT : undefined);
  if (!redirectUri) throw new Failure(`--client ${client} needs --redirect-uri (one registered for it)`);
  const discovered = await endpoints(root);
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: client,
    redirect_uri: redirectUri,
    scope: options.scope ?? DEFAULT_USER_SCOPE,
    state,
    aud: `${root}/fhir`,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  const browser = new Browser();
  let response = await browser.get(`${discovered.authorization_endpoint}?${query}`);
  for (let pages = 0; pages < MOST_PAGES; pages++) {
    const location = response.headers.get('location');
    if (location) {
      const target = new URL(location, response.url || discovered.authorization_endpoint);
      if (target.href.startsWith(redirectUri)) return exchange(discovered.token_endpoint, target, { state, verifier, client, redirectUri, secret: options.secret });
      response = await browser.get(target.href);
      continue;
    }
    response = await answerPage(browser, response, options);
  }
  throw new Failure(`the authorization did not finish within ${MOST_PAGES} pages`);
}

/** Fills in the page the server shows, as its user would; anything else is the server saying no. */
async function answerPage(browser, response, options) {
  const page = await response.text();
  const title = decode(/<h1>([^<]*)<\/h1>/.exec(page)?.[1] ?? '');
  const alert = decode((/<p[^>]*role="alert"[^>]*>([\s\S]*?)<\/p>/.exec(page)?.[1] ?? '').replace(/<[^>]+>/g, ''));
  const form = (suffix) => {
    const action = [...page.matchAll(/<form method="post" action="([^"]+)"/g)].map((match) => decode(match[1])).find((found) => found.endsWith(suffix));
    if (!action) throw new Failure(`the "${title}" page has no ${suffix} form: is this a CCP Exchange server of this version?`);
    return new URL(action, response.url).href;
  };
  if (response.status >= 400 && title !== 'Sign in') throw new Failure(`the server refused the authorization (${response.status} ${title}): ${alert || 'no reason given'}`);
  switch (title) {
    case 'Sign in':
      if (alert) throw new Failure(`sign-in as ${options.user} failed: ${alert}`);
      return browser.post(form('/sign-in'), { username: options.user, password: options.password });
    case 'Terms of Use': {
      const version = /<input type="hidden" name="version" value="([^"]*)">/.exec(page)?.[1];
      return browser.post(form('/terms'), { version: decode(version ?? ''), answer: 'accept' });
    }
    case 'Choose a patient':
      if (!options.patient) throw new Failure('the app asks for a patient (a launch/patient scope): give --patient ID');
      return browser.post(form('/patient'), { patient: options.patient });
    case 'Allow access?':
      return browser.post(form('/approve'), { answer: 'approve' });
    default:
      throw new Failure(`unexpected page from the server (${response.status} ${title || 'without a title'})${alert ? `: ${alert}` : ''}`);
  }
}

/** The code from the redirect back to the app (its state checked), exchanged with the PKCE verifier. */
async function exchange(tokenEndpoint, redirect, { state, verifier, client, redirectUri, secret }) {
  const params = redirect.searchParams;
  if (params.get('error')) throw new Failure(`the authorization was refused: ${params.get('error')}: ${params.get('error_description') ?? 'no description'}`);
  if (params.get('state') !== state) throw new Failure('the redirect back to the app carries another state than the one sent: refused');
  const code = params.get('code');
  if (!code) throw new Failure('the redirect back to the app carries no code');
  const form = { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, ...(secret === undefined ? { client_id: client } : {}) };
  return tokenRequest(tokenEndpoint, form, secret === undefined ? undefined : [client, secret]);
}

/** A browser's share of the work: cookies kept per name (the session cookie is Secure, which fetch ignores). */
class Browser {
  cookies = new Map();

  async get(url) {
    return this.remember(await request(url, { headers: this.headers() }));
  }

  async post(url, fields) {
    const headers = { ...this.headers(), 'Content-Type': 'application/x-www-form-urlencoded' };
    return this.remember(await request(url, { method: 'POST', headers, body: new URLSearchParams(fields).toString() }));
  }

  headers() {
    return this.cookies.size ? { Cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ') } : {};
  }

  remember(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const name = pair.slice(0, pair.indexOf('=')).trim();
      const value = pair.slice(pair.indexOf('=') + 1).trim();
      const expired = attributes.some((attribute) => /^\s*(max-age=0|expires=thu, 01 jan 1970)/i.test(attribute));
      if (expired || !value) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }
}

function decode(text) {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`token: ${error instanceof Failure ? error.message : `unexpected failure: ${error?.stack ?? error}`}\n`);
    process.exit(1);
  },
);
