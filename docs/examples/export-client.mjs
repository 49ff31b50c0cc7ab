#!/usr/bin/env node
// A sample Bulk Data client (docs/BULK.md), plain Node 20: it asks the status URL of an export, with the access
// token in FHIR_TOKEN, until the job is complete, waiting as long as each answer's Retry-After says (a 202 while
// the job runs, a 429 when asked too soon), prints each X-Progress on stderr and the manifest on stdout; given a
// folder, it then downloads every output file there as `<n>.<Type>.ndjson` (what `npm run import` reads back).
//
//   FHIR_TOKEN=… node docs/examples/export-client.mjs "$STATUS_URL" > manifest.json
//   FHIR_TOKEN=… node docs/examples/export-client.mjs "$STATUS_URL" ./export > manifest.json
//
// Exits 1 with the server's answer on stderr when the job failed or is gone (cancelled, expired, not yours), or
// after 10 minutes without completion.
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const [status, folder] = process.argv.slice(2);
const token = process.env.FHIR_TOKEN;
if (!status || !token) {
  console.error('usage: FHIR_TOKEN=… node export-client.mjs <status URL> [folder to download the files to]');
  process.exit(1);
}
const authorization = { Authorization: `Bearer ${token}` };

async function manifest() {
  const deadline = Date.now() + 10 * 60_000;
  while (Date.now() < deadline) {
    const response = await fetch(status, { headers: { ...authorization, Accept: 'application/json' } });
    const text = await response.text();
    if (response.status === 200) return JSON.parse(text);
    if (response.status !== 202 && response.status !== 429) throw new Error(`the status URL answered ${response.status}: ${text}`);
    if (response.status === 202) console.error(`in progress: ${response.headers.get('x-progress') ?? 'no X-Progress'}`);
    // Retry-After in seconds (the server's form); HTTP also allows a date.
    const after = response.headers.get('retry-after') ?? '1';
    const seconds = /^\d+$/.test(after) ? Number(after) : Math.max(0, (Date.parse(after) - Date.now()) / 1000);
    await new Promise((resolve) => setTimeout(resolve, Math.max(seconds, 0.2) * 1000));
  }
  throw new Error('the export did not complete within 10 minutes');
}

try {
  const done = await manifest();
  process.stdout.write(`${JSON.stringify(done, null, 2)}\n`);
  if (folder) {
    mkdirSync(folder, { recursive: true });
    for (const [n, file] of done.output.entries()) {
      // The manifest says whether files need the token; ours always do.
      const response = await fetch(file.url, { headers: done.requiresAccessToken ? authorization : {} });
      if (!response.ok) throw new Error(`${file.url} answered ${response.status}: ${await response.text()}`);
      const target = path.join(folder, `${n + 1}.${file.type}.ndjson`);
      await pipeline(Readable.fromWeb(response.body), createWriteStream(target));
      console.error(`${target}: ${file.count} ${file.type}`);
    }
  }
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
