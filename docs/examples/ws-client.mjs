#!/usr/bin/env node
// A sample websocket client for CCP Exchange notifications (docs/NOTIFICATIONS.md), after the Subscriptions
// Backport IG: it asks the server for a binding token ($get-ws-binding-token, with the access token in
// FHIR_TOKEN), connects to the websocket URL the answer names, sends `bind-with-token <token>`, and prints what
// the server sends. A binding lasts as long as its token, so a new token is asked for and sent on the same socket
// before the old one expires.
//
//   FHIR_TOKEN=… node docs/examples/ws-client.mjs http://localhost:8080/fhir SUBSCRIPTION_ID
//
// Prints `connected to <websocket URL>`, then for each notification one line
// `== TYPE Subscription/ID events-since-subscription-start N [event-numbers …]` followed by the Bundle as JSON;
// a message of the server's that is an OperationOutcome (a refused token, say) as `== OperationOutcome …`.
// Exits when the server closes the socket (1 unless it closed normally), or on Ctrl-C.
import WebSocket from 'ws';

const [base, subscription] = process.argv.slice(2);
const token = process.env.FHIR_TOKEN;
if (!base || !subscription || !token) {
  console.error('usage: FHIR_TOKEN=… node ws-client.mjs <FHIR base URL> <Subscription id>');
  process.exit(1);
}

/** $get-ws-binding-token on the Subscription: its token, when that expires, and where to connect. */
async function bindingToken() {
  const response = await fetch(`${base}/Subscription/${encodeURIComponent(subscription)}/$get-ws-binding-token`, {
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/fhir+json' },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`$get-ws-binding-token answered ${response.status}: ${body.issue?.[0]?.diagnostics ?? ''}`);
  const value = (name) => body.parameter?.find((p) => p.name === name);
  return { token: value('token')?.valueString, expiration: Date.parse(value('expiration')?.valueDateTime), url: value('websocket-url')?.valueUrl };
}

/** Asks for a new token when 80 % of this one's life is gone, and binds with it on the same socket. */
function renewBefore(socket, expiration) {
  const wait = Math.max(1000, (expiration - Date.now()) * 0.8);
  const timer = setTimeout(async () => {
    try {
      const next = await bindingToken();
      socket.send(`bind-with-token ${next.token}`);
      renewBefore(socket, next.expiration);
    } catch (error) {
      console.error(`ws-client: could not renew the binding: ${error.message}`);
    }
  }, wait);
  timer.unref();
}

function summary(message) {
  if (message.resourceType === 'OperationOutcome') {
    return `== OperationOutcome ${message.issue?.map((issue) => `${issue.code}: ${issue.diagnostics}`).join('; ')}`;
  }
  const parameters = message.entry?.[0]?.resource?.parameter ?? [];
  const value = (name) => parameters.find((p) => p.name === name);
  const numbers = parameters
    .filter((p) => p.name === 'notification-event')
    .map((p) => p.part?.find((part) => part.name === 'event-number')?.valueString);
  return [
    '==',
    value('type')?.valueCode ?? '(no type)',
    value('subscription')?.valueReference?.reference?.replace(/^.*\/(Subscription\/)/, '$1') ?? '(no subscription)',
    'events-since-subscription-start',
    value('events-since-subscription-start')?.valueString ?? '?',
    ...(numbers.length ? ['event-numbers', numbers.join(',')] : []),
  ].join(' ');
}

const first = await bindingToken().catch((error) => {
  console.error(`ws-client: ${error.message}`);
  process.exit(1);
});
const socket = new WebSocket(first.url);
socket.on('open', () => {
  console.log(`connected to ${first.url}`);
  socket.send(`bind-with-token ${first.token}`);
  renewBefore(socket, first.expiration);
});
socket.on('message', (data) => {
  let message;
  try {
    message = JSON.parse(data.toString('utf8'));
  } catch {
    console.log(`== a message that is not JSON: ${data.toString('utf8').slice(0, 200)}`);
    return;
  }
  console.log(summary(message));
  console.log(JSON.stringify(message, null, 2));
});
socket.on('close', (code, reason) => {
  console.log(`== closed ${code} ${reason.toString('utf8')}`);
  process.exit(code === 1000 || code === 1001 ? 0 : 1);
});
socket.on('error', (error) => {
  console.error(`ws-client: ${error.message}`);
  process.exit(1);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
