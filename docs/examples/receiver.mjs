#!/usr/bin/env node
// A sample rest-hook receiver for CCP Exchange notifications (docs/NOTIFICATIONS.md): an HTTP server on this
// machine that prints each notification Bundle POSTed to it and answers 200.
//
//   node docs/examples/receiver.mjs [PORT]        # PORT 0 or none: any free port
//
// Its first line says where it listens: `listening on http://127.0.0.1:PORT/notifications`. Then, for each
// notification, one line `== TYPE Subscription/ID events-since-subscription-start N [event-numbers …]`
// followed by the Bundle as JSON. With RECEIVER_AUTHORIZATION set, a POST whose Authorization header is not
// exactly that value is answered 401 (give the same value in the Subscription's channel.header).
//
// Plain Node 20, no dependency. A real receiver is served over https on a public address: the server sends
// notifications to http: and loopback addresses only when started with SUBSCRIPTION_ALLOW_LOOPBACK=true.
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 0);
const expected = process.env.RECEIVER_AUTHORIZATION;

const server = createServer((request, response) => {
  if (request.method !== 'POST' || request.url !== '/notifications') {
    response.writeHead(404).end();
    return;
  }
  if (expected !== undefined && request.headers.authorization !== expected) {
    console.log('== refused a POST without the expected Authorization header');
    response.writeHead(401).end();
    return;
  }
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    try {
      const bundle = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      console.log(summary(bundle));
      console.log(JSON.stringify(bundle, null, 2));
      response.writeHead(200).end();
    } catch {
      console.log('== a POST that is not JSON');
      response.writeHead(400).end();
    }
  });
});

/** The notification's type, Subscription, event count and event numbers, from its status Parameters. */
function summary(bundle) {
  const parameters = bundle?.entry?.[0]?.resource?.parameter ?? [];
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

server.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/notifications`);
});

// Stopped with Ctrl-C or kill, quietly.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
