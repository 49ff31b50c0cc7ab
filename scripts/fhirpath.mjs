#!/usr/bin/env node
// `npm run -s fhirpath -- '<expression>'`: evaluates a FHIRPath expression on the JSON read from stdin and prints
// each result on its own line (strings as they are, anything else as JSON). The walk-throughs in docs/ use it to
// keep an id from one answer for the next command without asking readers to install jq.
// An empty result is an error (exit 1): a walk-through step that expected a value must not go on without one.
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';

const expression = process.argv[2];
if (!expression || expression === '--help') {
  process.stderr.write("usage: <json on stdin> | npm run -s fhirpath -- '<FHIRPath expression>'\n");
  process.exit(expression ? 0 : 2);
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const text = Buffer.concat(chunks).toString('utf8');

let resource;
try {
  resource = JSON.parse(text);
} catch {
  process.stderr.write(`fhirpath: the input is not JSON: ${text.slice(0, 200)}\n`);
  process.exit(1);
}

let results;
try {
  results = fhirpath.evaluate(resource, expression, undefined, r4);
} catch (error) {
  process.stderr.write(`fhirpath: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
if (results.length === 0) {
  const what = resource?.resourceType === 'OperationOutcome' ? `: the input is an OperationOutcome: ${JSON.stringify(resource.issue ?? [])}` : '';
  process.stderr.write(`fhirpath: ${expression} found nothing${what}\n`);
  process.exit(1);
}
for (const value of results) process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
