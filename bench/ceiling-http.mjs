// The HTTP ceiling: a bare node:http server answering every request with the same small Patient, as a FHIR read
// would, with nothing behind it. `node bench/ceiling-http.mjs PORT`; prints "ready" once listening.
import { createServer } from 'node:http';

const body = JSON.stringify({ resourceType: 'Patient', id: '1', meta: { versionId: '1', lastUpdated: '2026-01-01T00:00:00Z' }, gender: 'female' });
createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/fhir+json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}).listen(Number(process.argv[2]), '127.0.0.1', () => process.stdout.write('ready\n'));
