import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Patient } from 'fhir/r4';
import type { Browser, Frame, Page } from 'playwright-core';
import { ensureAppClient } from '../../server/auth/app-client.js';
import { bootstrap, type BootstrapCredentials } from '../../server/auth/bootstrap.js';
import { publishTerms } from '../../server/auth/terms.js';
import { type Backend, BACKENDS, reportBackends } from '../support/backends.js';
import { axeViolations, launchChromium, watchedContext } from '../support/browser.js';
import { type EhrSimulator, startEhrSimulator } from '../support/ehr-simulator.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { pkce } from '../support/smart-flow.js';

reportBackends();

/**
 * The app's server in a real browser (Debian's Chromium through playwright-core; one browser for the file, a
 * context per test): the frame-ancestors rule as the browser applies it, with the EHR simulator framing the app
 * and the sign-in pages from another site. The server is the real application on a socket, set up as
 * server/main.ts does (the first start's accounts, the Terms of Use, the app's client).
 */

/** A served app of our own making: what the browser frames is then the server's doing, whatever the app becomes. */
const FIXTURE_APP = mkdtempSync(path.join(os.tmpdir(), 'ccp-browser-app-'));
writeFileSync(path.join(FIXTURE_APP, 'index.html'), '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>CCP app</title></head><body><main><h1>CCP app fixture</h1></main></body></html>');

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
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  rmSync(FIXTURE_APP, { recursive: true, force: true });
});

describe.each(BACKENDS)('frame-ancestors in the browser, on $name', (backend) => {
  let ehr: EhrSimulator;
  let target: RunningServer;
  let allowed: RunningServer;
  let refused: RunningServer;
  const patients = new Map<RunningServer, string>();

  beforeAll(async () => {
    // The simulator listens first: the server that lets it frame the app names its origin.
    ehr = await startEhrSimulator(() => ({ server: target.origin, token: ehrToken(target) }));
    allowed = await runServer(backend, { appDir: FIXTURE_APP, appFrameAncestors: [ehr.origin] });
    refused = await runServer(backend, { appDir: FIXTURE_APP });
    for (const running of [allowed, refused]) patients.set(running, (await running.server.context.store.create({ resourceType: 'Patient', name: [{ family: 'Rivera' }] } as Patient)).id!);
  });
  afterAll(async () => {
    await ehr?.close();
    await allowed?.close();
    await refused?.close();
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

  it("APP_FRAME_ANCESTORS naming the EHR: its chart page launches the app in a frame, then the sign-in page loads there too, clean and accessible", async () => {
    target = allowed;
    const { context, problems } = await watchedContext(chromium);
    try {
      const page = await context.newPage();
      const app = await framed(page, ehr.chartUrl({ patient: patients.get(allowed) }));
      expect(app.url()).toBe(`${allowed.origin}/app/launch?${new URLSearchParams({ iss: `${allowed.origin}/fhir`, launch: ehr.launches.at(-1)! })}`);
      expect(await app.locator('h1').textContent()).toBe('CCP app fixture');

      const signIn = await framed(page, ehr.frameUrl(authorizePath(allowed)));
      expect(signIn.url()).toMatch(new RegExp(`^${allowed.origin}/auth/interaction/`));
      expect(await signIn.locator('h1').textContent()).toBe('Sign in');
      expect(await axeViolations(page)).toEqual([]);
      expect(problems.all()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('without it: the browser refuses to frame the app and the sign-in page, naming frame-ancestors', async () => {
    target = refused;
    const { context, problems } = await watchedContext(chromium);
    try {
      const page = await context.newPage();
      const pages: [string, string][] = [
        [ehr.chartUrl({ patient: patients.get(refused) }), "frame-ancestors 'self'"],
        [ehr.frameUrl(authorizePath(refused)), "frame-ancestors 'none'"],
      ];
      for (const [url, directive] of pages) {
        problems.clear();
        const frame = await framed(page, url);
        expect(frame.url()).toBe('chrome-error://chromewebdata/');
        // Chromium's error page in its place, which has words of its own: none of ours.
        const shown = await frame.locator('h1').allTextContents();
        expect(shown).not.toContain('CCP app fixture');
        expect(shown).not.toContain('Sign in');
        // Chromium 156's words ("Framing '…' violates the following Content Security Policy directive: …"); older ones said "Refused to frame".
        expect(problems.console).toHaveLength(1);
        expect(problems.console[0]).toMatch(/(Framing|Refused to frame) '.*' .*violates the following Content Security Policy directive/);
        expect(problems.console[0]).toContain(`"${directive}"`);
      }
    } finally {
      await context.close();
    }
  });
});
