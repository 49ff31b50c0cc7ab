#!/usr/bin/env node
// Waits until a Subscription is active (docs/NOTIFICATIONS.md): the server makes a rest-hook Subscription active
// once its receiver answered the handshake, a websocket one once a client bound it, and notifies it of events
// from then on. Reads the Subscription every 200 ms with the access token in FHIR_TOKEN.
//
//   FHIR_TOKEN=… node docs/examples/until-active.mjs http://localhost:8080/fhir/Subscription/ID [SECONDS]
//
// Exit 0 once it is active; 1 if it is in error or off, the read fails, or SECONDS (default 30) pass first.
// Plain Node 20, no dependency.
const [url, seconds = '30'] = process.argv.slice(2);
const token = process.env.FHIR_TOKEN;
if (!url || !token) {
  console.error('usage: FHIR_TOKEN=… node until-active.mjs <Subscription URL> [seconds]');
  process.exit(1);
}

const deadline = Date.now() + Number(seconds) * 1000;
for (;;) {
  const response = await fetch(url, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/fhir+json' } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) fail(`the read answered ${response.status}: ${body.issue?.[0]?.diagnostics ?? ''}`);
  if (body.status === 'active') break;
  if (body.status === 'error' || body.status === 'off') fail(`the Subscription is ${body.status}${body.error ? `: ${body.error}` : ''}`);
  if (Date.now() > deadline) fail(`the Subscription is still ${body.status} after ${seconds} s`);
  await new Promise((resolve) => setTimeout(resolve, 200));
}

function fail(message) {
  console.error(`until-active: ${message}`);
  process.exit(1);
}
