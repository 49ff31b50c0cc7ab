import helmet from 'helmet';
import request from 'supertest';
import { BACKENDS } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SECURITY_HEADERS } from '../../server/http/security-headers.js';
import { notModified } from '../../server/http/not-modified.js';

describe('the FHIR API\'s security headers, computed once', () => {
  it('are exactly the headers helmet sends with its defaults', async () => {
    const set = new Map<string, string>();
    const removed: string[] = [];
    const res = {
      setHeader: (name: string, value: string) => set.set(name, value),
      removeHeader: (name: string) => removed.push(name),
    } as unknown as ServerResponse;
    await new Promise<void>((resolve, reject) => helmet()({ headers: {} } as IncomingMessage, res, (error?: unknown) => (error ? reject(error) : resolve())));
    expect(new Map(SECURITY_HEADERS)).toEqual(set);
    // What helmet removes, Express never sends (`x-powered-by` is disabled in server/app.ts).
    expect(removed).toEqual(['X-Powered-By']);
  });
});

describe('not modified (the rule Express\'s res.send applied)', () => {
  const etag = { etag: 'W/"2"', lastModified: 'Mon, 07 Dec 2026 08:00:00 GMT' };
  it('answers 304 to a GET whose entity tag or date the client holds', () => {
    expect(notModified('GET', 200, { 'if-none-match': 'W/"2"' }, etag)).toBe(true);
    expect(notModified('HEAD', 200, { 'if-none-match': 'W/"1", W/"2"' }, etag)).toBe(true);
    expect(notModified('GET', 200, { 'if-modified-since': 'Mon, 07 Dec 2026 09:00:00 GMT' }, etag)).toBe(true);
  });
  it('not otherwise', () => {
    expect(notModified('GET', 200, {}, etag)).toBe(false);
    expect(notModified('GET', 200, { 'if-none-match': 'W/"1"' }, etag)).toBe(false);
    expect(notModified('POST', 200, { 'if-none-match': 'W/"2"' }, etag)).toBe(false);
    expect(notModified('GET', 404, { 'if-none-match': '*' }, etag)).toBe(false);
    expect(notModified('GET', 200, { 'if-none-match': 'W/"2"', 'cache-control': 'no-cache' }, etag)).toBe(false);
    expect(notModified('GET', 200, { 'if-modified-since': 'Mon, 07 Dec 2026 07:00:00 GMT' }, etag)).toBe(false);
  });
});

describe('on the wire', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(BACKENDS[0]);
  });
  afterAll(async () => server?.close());

  it('the FHIR API sends the same security headers as the pages, which helmet itself still writes', async () => {
    const fhir = await request(server.app).get('/fhir/metadata');
    const page = await request(server.app).get('/healthz');
    const names = SECURITY_HEADERS.map(([name]) => name.toLowerCase());
    const pick = (headers: Record<string, string>) => Object.fromEntries(names.map((name) => [name, headers[name]]));
    expect(pick(fhir.headers)).toEqual(pick(page.headers));
    expect(pick(fhir.headers)).toEqual(Object.fromEntries(SECURITY_HEADERS.map(([name, value]) => [name.toLowerCase(), value])));
    expect(fhir.headers['x-powered-by']).toBeUndefined();
    expect(fhir.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(fhir.headers['access-control-allow-origin']).toBe('*');
  });

  it('answers a path in any case, as Express matched it, and nothing beside /fhir', async () => {
    expect((await request(server.app).get('/FHIR/metadata')).status).toBe(200);
    expect((await request(server.app).get('/fhirx/metadata')).status).toBe(404);
  });

  it('answers HEAD with the length of the body it leaves out', async () => {
    const head = await request(server.app).head('/fhir/metadata');
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(1000);
  });
});
