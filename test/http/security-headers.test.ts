import helmet from 'helmet';
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
