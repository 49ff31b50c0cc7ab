#!/usr/bin/env node
// A sample Bulk Data client's polling loop (docs/BULK.md): it asks the status URL of an export, with the access
// token in FHIR_TOKEN, until the job is complete, waiting as long as each answer's Retry-After says (a 202 while
// the job runs, a 429 when asked too soon), and prints each X-Progress on stderr, then the manifest on stdout.
//
//   FHIR_TOKEN=… node docs/examples/export-wait.mjs "$STATUS_URL" > manifest.json
//
// Exits 1 with the server's OperationOutcome on stderr when the job failed or is gone (cancelled, expired, not
// yours), and after 10 minutes without completion.
const [status] = process.argv.slice(2);
const token = process.env.FHIR_TOKEN;
if (!status || !token) {
  console.error('usage: FHIR_TOKEN=… node export-wait.mjs <status URL>');
  process.exit(1);
}

const deadline = Date.now() + 10 * 60_000;
while (Date.now() < deadline) {
  const response = await fetch(status, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } });
  const text = await response.text();
  if (response.status === 200) {
    process.stdout.write(`${text}\n`);
    process.exit(0);
  }
  if (response.status !== 202 && response.status !== 429) {
    console.error(`the status URL answered ${response.status}: ${text}`);
    process.exit(1);
  }
  if (response.status === 202) console.error(`in progress: ${response.headers.get('x-progress') ?? 'no X-Progress'}`);
  // Retry-After in seconds (the server's form); a date is allowed by HTTP, so it is read too.
  const after = response.headers.get('retry-after') ?? '1';
  const seconds = /^\d+$/.test(after) ? Number(after) : Math.max(0, (Date.parse(after) - Date.now()) / 1000);
  await new Promise((resolve) => setTimeout(resolve, Math.max(seconds, 0.2) * 1000));
}
console.error('the export did not complete within 10 minutes');
process.exit(1);
