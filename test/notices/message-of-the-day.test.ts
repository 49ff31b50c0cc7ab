import type { Communication } from 'fhir/r4';
import { UNRESTRICTED } from '../../server/access/caller.js';
import { NOTICE_KIND_SYSTEM, NOTICE_SEVERITY_EXTENSION, NOTICE_WINDOW_EXTENSION } from '../../server/conformance/notice-vocabulary.js';
import { messageOfTheDay } from '../../server/http/message-of-the-day.js';
import { createLogger } from '../../server/log/logger.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { authorizeUrl, Browser, location, pkce, registerApp } from '../support/smart-flow.js';

reportBackends();

/**
 * The message of the day on the sign-in page the server renders (server/http/pages/notices.ts): the current
 * service notices with kind, severity, window and text, escaped, under the pages' strict Content-Security-Policy;
 * nothing that is not current; and the page still shown when the notices cannot be read.
 */
const BASE = 'https://ccp.example.org/fhir';
const HOSTILE = 'Upgrade <script>alert("x")</script> & <b>bold</b> \'quoted\'';
const hours = (n: number) => new Date(Date.now() + n * 3600_000).toISOString();

function notice(kind: string, severity: string, status: Communication['status'], text: string, window?: { start: string; end: string }): Communication {
  return {
    resourceType: 'Communication',
    extension: [{ url: NOTICE_SEVERITY_EXTENSION, valueCode: severity }, ...(window ? [{ url: NOTICE_WINDOW_EXTENSION, valuePeriod: window }] : [])],
    status,
    category: [{ coding: [{ system: NOTICE_KIND_SYSTEM, code: kind }] }],
    payload: [{ contentString: text }],
  };
}

describe.each(BACKENDS)('the message of the day on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend, { baseUrl: BASE, auth: true });
    await registerApp(server, { clientId: 'motd-app' });
  });
  afterAll(async () => server?.close());

  /** The sign-in page of a new authorization request, as a browser gets it. */
  async function signInPage() {
    const browser = new Browser(server);
    const started = await browser.get(authorizeUrl({ client_id: 'motd-app', scope: 'openid user/*.rs', aud: BASE, state: 's', code_challenge: pkce().challenge }));
    const page = await browser.get(location(started));
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>Sign in</h1>');
    return page;
  }
  async function write(method: 'POST' | 'PUT', path: string, body: Communication): Promise<Communication & { id: string }> {
    const response = await handleFhirRequest({ method, path, query: {}, headers: {}, baseUrl: BASE, caller: UNRESTRICTED, body }, server.context);
    expect(response.status).toBeLessThan(300);
    return response.body as Communication & { id: string };
  }
  const noticeBlocks = (text: string) => text.match(/<div class="notice [^"]*">[\s\S]*?<\/div>/g) ?? [];

  it('no notice, no section', async () => {
    expect((await signInPage()).text).not.toContain('class="notices"');
  });

  it('shows the current notices with kind, severity, window and text, escaped, under a policy that allows no inline script or style', async () => {
    const window = { start: '2030-06-01T02:00:00Z', end: '2030-06-01T04:30:00+00:00' };
    const downtime = await write('POST', 'Communication', notice('planned-downtime', 'critical', 'in-progress', HOSTILE, window));
    const page = await signInPage();
    const blocks = noticeBlocks(page.text);
    expect(blocks).toHaveLength(1);
    const [block] = blocks;
    expect(block).toContain('class="notice notice-critical"');
    expect(block).toContain('<strong>Planned downtime</strong>');
    expect(block).toContain('Critical');
    expect(block).toContain('From 2030-06-01 02:00 UTC to 2030-06-01 04:30 UTC');
    expect(block).toContain('Upgrade &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt; &#39;quoted&#39;');
    expect(page.text).not.toContain('<script');
    expect(page.text).not.toContain('<b>bold');
    expect(page.text).not.toMatch(/\sstyle=/);
    const policy = page.headers['content-security-policy'] as string;
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("style-src 'self'");
    expect(policy).not.toContain('unsafe-inline');
    // The classes are the one stylesheet's.
    const css = await new Browser(server).get('/auth/style.css');
    expect(css.text).toContain('.notice-critical');

    // Completed by an administrator: gone.
    await write('PUT', `Communication/${downtime.id}`, { ...downtime, status: 'completed' });
    expect(noticeBlocks((await signInPage()).text)).toHaveLength(0);
  });

  it('shows nothing that is not current: completed, withdrawn, a downtime past its end, other Communications', async () => {
    await write('POST', 'Communication', notice('unplanned-outage', 'critical', 'completed', 'old outage'));
    await write('POST', 'Communication', notice('new-functionality', 'information', 'entered-in-error', 'withdrawn'));
    await write('POST', 'Communication', notice('planned-downtime', 'warning', 'in-progress', 'already over', { start: hours(-3), end: hours(-1) }));
    await write('POST', 'Communication', { resourceType: 'Communication', status: 'in-progress', payload: [{ contentString: 'a message between colleagues' }] });
    const outage = await write('POST', 'Communication', notice('unplanned-outage', 'warning', 'in-progress', 'Searches are slow.'));
    const started = await write('POST', 'Communication', notice('planned-downtime', 'information', 'in-progress', 'Under way.', { start: hours(-1), end: hours(1) }));
    const page = (await signInPage()).text;
    const blocks = noticeBlocks(page);
    expect(blocks).toHaveLength(2);
    expect(page).toContain('Searches are slow.');
    expect(page).toContain('Under way.');
    for (const hidden of ['old outage', 'withdrawn', 'already over', 'a message between colleagues']) expect(page).not.toContain(hidden);
    await write('PUT', `Communication/${outage.id}`, { ...outage, status: 'completed' });
    await write('PUT', `Communication/${started.id}`, { ...started, status: 'completed' });
  });

  it('the page still renders, without notices, when they cannot be read', async () => {
    await write('POST', 'Communication', notice('unplanned-outage', 'critical', 'in-progress', 'Shown when readable.'));
    expect((await signInPage()).text).toContain('Shown when readable.');
    // The notices' query reads the search index; with its table away the rest of the sign-in still works.
    await server.db.exec('ALTER TABLE search_token RENAME TO search_token_away');
    try {
      const page = await signInPage();
      expect(page.text).not.toContain('Shown when readable.');
      expect(page.text).toContain('name="password"');
    } finally {
      await server.db.exec('ALTER TABLE search_token_away RENAME TO search_token');
    }
  });

  it('a database that is away (closed) gives no notice rather than an error', async () => {
    const away = await backend.open();
    await away.db.close();
    await expect(messageOfTheDay(away.db, createLogger('silent'))).resolves.toEqual([]);
    await away.close().catch(() => undefined);
  });
});
