import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the EHR has open when it launches the app (server/auth/admin/launch-request.ts). */
export interface EhrChart {
  patient?: string;
  /** The CarePlan open in the chart, sent as `fhirContext`. */
  carePlan?: string;
  need_patient_banner?: boolean;
}

/** The server the simulator launches the app from, and the token its launch API takes. */
export interface EhrTarget {
  server: string;
  token: () => Promise<string>;
}

export interface EhrSimulator {
  /**
   * `http://localhost:port`: another *site* than a server on 127.0.0.1 (an IP address is a site of its own), as an
   * EHR usually is. Chromium's contexts, like its incognito windows, block third-party storage there: the framed app
   * may not use sessionStorage, which is the case the app must cope with (docs/APP.md).
   */
  origin: string;
  /** The chart page that launches the app into `chart`. */
  chartUrl(chart: EhrChart): string;
  /** A page framing `path` of the server as it is (no launch): the sign-in pages, as the framed app reaches them. */
  frameUrl(path: string): string;
  /** The launch values this EHR was given, in order. */
  launches: string[];
  close(): Promise<void>;
}

/**
 * A stand-in EHR for browser tests, on its own origin: its chart page records a launch context through the server's
 * launch API (POST /auth/admin/launch, a token with the `ehr-launch` scope, as the EHR's back end would) and opens
 * `<server>/app/launch?iss=<server>/fhir&launch=<value>` in an iframe, as an EHR shows a SMART app. Whether the
 * browser lets the app be framed is then the server's frame-ancestors policy at work. `target` is asked at each
 * request, so the simulator can listen first (a server's APP_FRAME_ANCESTORS names its origin) and serve several.
 */
export async function startEhrSimulator(target: () => EhrTarget): Promise<EhrSimulator> {
  const launches: string[] = [];
  const framing = (src: string) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>EHR simulator: chart</title><link rel="icon" href="data:,"></head>
<body>
<main>
<h1>EHR simulator: chart</h1>
<iframe id="smart-app" title="CCP app" src="${escape(src)}" width="1200" height="800"></iframe>
</main>
</body>
</html>
`;
  const page = async (options: EhrTarget, chart: EhrChart): Promise<{ status: number; html: string }> => {
    const res = await fetch(`${options.server}/auth/admin/launch`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${await options.token()}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        ...(chart.patient ? { patient: chart.patient } : {}),
        ...(chart.carePlan ? { fhirContext: [{ reference: `CarePlan/${chart.carePlan}` }] } : {}),
        ...(chart.need_patient_banner !== undefined ? { need_patient_banner: chart.need_patient_banner } : {}),
      }),
    });
    const body = (await res.json()) as { launch?: string };
    if (res.status !== 201 || !body.launch) return { status: 502, html: `<!doctype html><title>EHR simulator</title><p>The launch API answered ${res.status}: ${escape(JSON.stringify(body))}</p>` };
    launches.push(body.launch);
    const app = `${options.server}/app/launch?${new URLSearchParams({ iss: `${options.server}/fhir`, launch: body.launch })}`;
    return { status: 200, html: framing(app) };
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const options = target();
    const headers = { 'Content-Type': 'text/html; charset=utf-8' };
    const path = url.searchParams.get('path');
    if (req.method === 'GET' && url.pathname === '/frame' && path?.startsWith('/')) {
      res.writeHead(200, headers).end(framing(`${options.server}${path}`));
      return;
    }
    if (req.method !== 'GET' || url.pathname !== '/chart') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    const banner = url.searchParams.get('banner');
    page(options, {
      patient: url.searchParams.get('patient') ?? undefined,
      carePlan: url.searchParams.get('carePlan') ?? undefined,
      need_patient_banner: banner === null ? undefined : banner === 'true',
    }).then(
      ({ status, html }) => {
        res.writeHead(status, headers).end(html);
      },
      (error: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(error)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // Chromium resolves localhost to the loopback addresses itself, 127.0.0.1 among them.
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    chartUrl: (chart) => {
      const query = new URLSearchParams();
      if (chart.patient) query.set('patient', chart.patient);
      if (chart.carePlan) query.set('carePlan', chart.carePlan);
      if (chart.need_patient_banner !== undefined) query.set('banner', String(chart.need_patient_banner));
      return `${origin}/chart?${query}`;
    },
    frameUrl: (path) => `${origin}/frame?${new URLSearchParams({ path })}`,
    launches,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
