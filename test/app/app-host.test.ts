import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureAppClient } from '../../server/auth/app-client.js';
import { publishTerms } from '../../server/auth/terms.js';
import { BACKENDS, reportBackends, type TestDatabase } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { authorizeUrl, Browser, location, pageTitle, pkce } from '../support/smart-flow.js';

reportBackends();

/**
 * /app/ as server/http/app-host.ts serves it, over a real socket (raw request targets: a client library would
 * normalise `/app/../x` before sending it). A built app of our own making stands in for dist/app, so what is
 * served can be compared byte for byte; test/app/browser.test.ts runs the real build in a browser.
 */
const APP_DIR = mkdtempSync(path.join(os.tmpdir(), 'ccp-app-host-'));
const FILES: Record<string, string | Buffer> = {
  'index.html': '<!doctype html><html lang="en"><head><title>CCP</title><script type="module" src="/app/assets/index-Bq3x9.js"></script></head><body></body></html>',
  'assets/index-Bq3x9.js': 'console.log("app");\n',
  'assets/index-D4kq1.css': 'body { margin: 0 }\n',
  'assets/inter-latin-7Yx.woff2': Buffer.from([0x77, 0x4f, 0x46, 0x32, 0, 1, 2, 3]),
  'assets/index-Bq3x9.js.map': '{"version":3,"sources":[],"mappings":""}',
  'favicon.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
  '.secret': 'not served',
};
for (const [name, body] of Object.entries(FILES)) {
  mkdirSync(path.dirname(path.join(APP_DIR, name)), { recursive: true });
  writeFileSync(path.join(APP_DIR, name), body);
}

const APP_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request with the target exactly as written. */
function raw(port: number, target: string, method = 'GET', headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: target, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function listen(server: TestServer): Promise<{ port: number; close: () => Promise<void> }> {
  const listening = http.createServer(server.app);
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  return { port: (listening.address() as AddressInfo).port, close: () => new Promise((resolve) => listening.close(() => resolve())) };
}

/** One database under every app of the serving tests: serving reads no storage, and opening one is the slow part. */
let shared: TestDatabase | undefined;
const servingApp = async (appDir: string | undefined) => openTestServer(BACKENDS[0], { appDir }, (shared ??= await BACKENDS[0].open()));

afterAll(async () => {
  rmSync(APP_DIR, { recursive: true, force: true });
  await shared?.close();
});

describe('/app/: the built app, served', () => {
  // Serving reads no storage: one database is enough here (the sign-in pages below run on each).
  let server: TestServer;
  let port: number;
  let close: () => Promise<void>;
  const index = FILES['index.html'] as string;

  beforeAll(async () => {
    server = await servingApp(APP_DIR);
    ({ port, close } = await listen(server));
  });
  afterAll(async () => {
    await close?.();
  });

  it('index.html at /app/, never cached without asking, under the strict policy and the security headers the server sends', async () => {
    const res = await raw(port, '/app/');
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(index);
    expect(res.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      'content-length': String(Buffer.byteLength(index)),
      'content-security-policy': APP_CSP,
      'x-frame-options': 'SAMEORIGIN',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'cross-origin-opener-policy': 'same-origin',
    });
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect((await raw(port, '/app/index.html')).body.toString()).toBe(index);
  });

  it('/app without the slash is sent to /app/, its query kept', async () => {
    const res = await raw(port, '/app?code=c1&state=s1');
    expect([res.status, res.headers.location]).toEqual([308, '/app/?code=c1&state=s1']);
  });

  it("the hashed assets as they are, each with its type, cached for a year as immutable; other files asked again", async () => {
    const expected: [string, string][] = [
      ['assets/index-Bq3x9.js', 'text/javascript; charset=utf-8'],
      ['assets/index-D4kq1.css', 'text/css; charset=utf-8'],
      ['assets/inter-latin-7Yx.woff2', 'font/woff2'],
      ['assets/index-Bq3x9.js.map', 'application/json; charset=utf-8'],
    ];
    for (const [name, type] of expected) {
      const res = await raw(port, `/app/${name}`);
      expect([name, res.status, res.headers['content-type'], res.headers['cache-control']]).toEqual([name, 200, type, 'public, max-age=31536000, immutable']);
      expect(res.body.equals(Buffer.from(FILES[name]))).toBe(true);
      expect(res.headers['content-security-policy']).toBe(APP_CSP);
    }
    const icon = await raw(port, '/app/favicon.svg');
    expect([icon.status, icon.headers['content-type'], icon.headers['cache-control']]).toEqual([200, 'image/svg+xml', 'no-cache']);
  });

  it('a conditional request for an unchanged file is a 304 without body; HEAD has the headers and no body', async () => {
    const first = await raw(port, '/app/');
    const again = await raw(port, '/app/', 'GET', { 'If-None-Match': String(first.headers.etag) });
    expect([again.status, again.body.length, again.headers.etag]).toEqual([304, 0, first.headers.etag]);
    const head = await raw(port, '/app/assets/index-Bq3x9.js', 'HEAD');
    expect([head.status, head.body.length, head.headers['content-length'], head.headers['content-type']]).toEqual([200, 0, '20', 'text/javascript; charset=utf-8']);
  });

  it("the app's own routes get index.html: the EHR launch, the sign-in's return, a plan by id", async () => {
    for (const target of ['/app/launch?iss=http%3A%2F%2F127.0.0.1%2Ffhir&launch=abc', '/app/?code=c1&state=s1', '/app/plan/CarePlan/cp-1.2', '/app/launch/']) {
      const res = await raw(port, target);
      expect([target, res.status, res.headers['content-type'], res.headers['cache-control']]).toEqual([target, 200, 'text/html; charset=utf-8', 'no-cache']);
      expect(res.body.toString()).toBe(index);
    }
  });

  it('no listing and no guessing under assets/: a folder or a missing file is a 404 (a script tag would choke on HTML)', async () => {
    for (const target of ['/app/assets/', '/app/assets', '/app/assets/missing-Zz9.js']) {
      const res = await raw(port, target);
      expect([target, res.status, res.headers['content-type']]).toEqual([target, 404, 'text/plain; charset=utf-8']);
      expect(res.headers['content-security-policy']).toBe(APP_CSP);
    }
  });

  it('no way out of the folder: dot segments, encoded or not, encoded slashes and backslashes, double encoding, NUL, dot files: 404', async () => {
    const packageJson = readFileSync(path.resolve('package.json'), 'utf8');
    const targets = [
      '/app/../package.json',
      '/app/assets/../../package.json',
      '/app/%2e%2e/package.json',
      '/app/%2E%2E/%2E%2E/package.json',
      '/app/..%2fpackage.json',
      '/app/..%2F..%2Fpackage.json',
      '/app/assets/..%5c..%5cpackage.json',
      '/app/..\\package.json',
      '/app/%252e%252e/package.json',
      '/app/assets/%00index-Bq3x9.js',
      '/app/./index.html',
      '/app//etc/passwd',
      '/app/%ff',
      '/app/.secret',
    ];
    for (const target of targets) {
      const res = await raw(port, target);
      // `/app/..` leaves /app/ altogether: the server's own 404 then, which is no file either.
      expect([target, res.status]).toEqual([target, 404]);
      expect(res.body.toString()).not.toContain(packageJson.slice(0, 40));
      expect(res.body.toString()).not.toContain('not served');
    }
  });

  it('GET and HEAD only: a POST is a 405 naming them', async () => {
    const res = await raw(port, '/app/', 'POST');
    expect([res.status, res.headers.allow]).toEqual([405, 'GET, HEAD']);
  });
});

describe('/app/: the real build (dist/app, which npm run build makes)', () => {
  it("serves each file index.html names under /app/assets/, with its type and the year's caching", async () => {
    const dist = path.resolve('dist', 'app');
    const { port, close } = await listen(await servingApp(dist));
    try {
      const page = (await raw(port, '/app/')).body.toString();
      expect(page).toBe(readFileSync(path.join(dist, 'index.html'), 'utf8'));
      const named = [...page.matchAll(/(?:src|href)="(\/app\/assets\/[^"]+)"/g)].map((match) => match[1]);
      const types = named.map((target) => (target.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8'));
      expect(named.length).toBeGreaterThanOrEqual(2);
      for (const [index, target] of named.entries()) {
        const res = await raw(port, target);
        expect([target, res.status, res.headers['content-type'], res.headers['cache-control']]).toEqual([target, 200, types[index], 'public, max-age=31536000, immutable']);
        expect(res.body.equals(readFileSync(path.join(dist, target.slice('/app/'.length))))).toBe(true);
      }
    } finally {
      await close();
    }
  });
});

describe('/app/ before the app is built', () => {
  it('a 503 plain page saying so, for every path under /app/; the rest of the server serves on', async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'ccp-app-unbuilt-'));
    for (const appDir of [empty, undefined]) {
      const { port, close } = await listen(await servingApp(appDir));
      try {
        for (const target of ['/app/', '/app/launch?iss=x&launch=y', '/app/assets/index.js']) {
          const res = await raw(port, target);
          expect([target, res.status, res.headers['content-type'], res.headers['retry-after']]).toEqual([target, 503, 'text/plain; charset=utf-8', '60']);
          expect(res.body.toString()).toBe('The app is not built. Run `npm run build` (npm start does it) and restart the server.\n');
        }
        expect((await raw(port, '/fhir/metadata')).status).toBe(200);
      } finally {
        await close();
      }
    }
    rmSync(empty, { recursive: true, force: true });
  });
});

describe.each(BACKENDS)('frame-ancestors: the app and the sign-in pages on $name', (backend) => {
  const ROOT = 'https://ccp.test';
  const EHRS = ['https://ehr.example.org', 'http://localhost:3000'];
  let framed: TestServer;
  let unframed: TestServer;

  beforeAll(async () => {
    framed = await openTestServer(backend, { baseUrl: `${ROOT}/fhir`, auth: true, appDir: APP_DIR, appFrameAncestors: EHRS });
    unframed = await openTestServer(backend, { baseUrl: `${ROOT}/fhir`, auth: true, appDir: APP_DIR }, await backend.open());
    for (const server of [framed, unframed]) {
      await publishTerms(server.db, 'Terms.');
      await ensureAppClient(server.auth!, ROOT);
    }
  });
  afterAll(async () => {
    await framed?.close();
    await unframed?.close();
  });

  /** The sign-in page of an authorization by the app, and an error page of the authorization endpoint. */
  const pages = async (server: TestServer) => {
    const browser = new Browser(server);
    const start = authorizeUrl({ client_id: 'ccp-app', redirect_uri: `${ROOT}/app/`, scope: 'openid fhirUser user/*.rs', aud: `${ROOT}/fhir`, state: 's', code_challenge: pkce().challenge });
    const signIn = await browser.get(location(await browser.get(start)));
    expect(pageTitle(signIn)).toBe('Sign in');
    const error = await browser.get(authorizeUrl({ client_id: 'nobody', scope: 'openid', aud: `${ROOT}/fhir`, code_challenge: pkce().challenge }));
    expect(error.status).toBe(400);
    return [signIn, error];
  };
  const frameAncestors = (csp: unknown) => String(csp).split(';').map((directive) => directive.trim()).filter((directive) => directive.startsWith('frame-ancestors'));

  it('with APP_FRAME_ANCESTORS: the app and the sign-in pages allow exactly those origins and their own, and no X-Frame-Options contradicts them', async () => {
    const browser = new Browser(framed);
    const app = await browser.get('/app/launch?iss=x&launch=y');
    expect(app.headers['content-security-policy']).toBe(APP_CSP.replace("frame-ancestors 'self'", "frame-ancestors 'self' https://ehr.example.org http://localhost:3000"));
    expect(app.headers['x-frame-options']).toBeUndefined();
    for (const page of await pages(framed)) {
      expect(frameAncestors(page.headers['content-security-policy'])).toEqual(["frame-ancestors 'self' https://ehr.example.org http://localhost:3000"]);
      expect(page.headers['x-frame-options']).toBeUndefined();
    }
  });

  it('without: the app only on its own origin (SAMEORIGIN), the sign-in pages in no frame at all (DENY)', async () => {
    const app = await new Browser(unframed).get('/app/');
    expect(frameAncestors(app.headers['content-security-policy'])).toEqual(["frame-ancestors 'self'"]);
    expect(app.headers['x-frame-options']).toBe('SAMEORIGIN');
    for (const page of await pages(unframed)) {
      expect(frameAncestors(page.headers['content-security-policy'])).toEqual(["frame-ancestors 'none'"]);
      expect(page.headers['x-frame-options']).toBe('DENY');
    }
  });
});
