// The cost of the JSON text checks every body gets before parsing (server/fhir/json-text.ts, from dist/:
// `npm run build` first), against JSON.parse of the same text, in this process on one core: the official R4
// examples (hl7.fhir.r4.examples, one file each) and the Synthea patient Bundles (SYNTHEA_DIR, default
// /work/shared/data/synthea-r4; left out when absent). Prints MB/s of each, median of BENCH_PASSES (default 3).
//   node bench/json-text.mjs
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { root } from './harness.mjs';

const { scanJsonText, DEFAULT_MAX_JSON_DEPTH } = await import(path.join(root, 'dist/server/fhir/json-text.js'));
const PASSES = Number(process.env.BENCH_PASSES ?? 3);
const EXAMPLES = path.join(root, 'node_modules/hl7.fhir.r4.examples');
const SYNTHEA = process.env.SYNTHEA_DIR ?? '/work/shared/data/synthea-r4';

function texts(dir, pattern, read) {
  return readdirSync(dir).filter((file) => pattern.test(file) && file !== 'package.json').map((file) => read(path.join(dir, file)));
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function measure(name, corpus) {
  const megabytes = corpus.reduce((sum, text) => sum + Buffer.byteLength(text), 0) / 1e6;
  const timed = (fn) => {
    const started = process.hrtime.bigint();
    for (const text of corpus) fn(text);
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  let problems = 0;
  const scan = median(Array.from({ length: PASSES }, () => timed((text) => (problems += scanJsonText(text, DEFAULT_MAX_JSON_DEPTH).length))));
  const parse = median(Array.from({ length: PASSES }, () => timed((text) => JSON.parse(text))));
  console.log(
    `${name}: ${corpus.length} files, ${megabytes.toFixed(1)} MB; scan ${(megabytes / (scan / 1000)).toFixed(0)} MB/s, ` +
      `JSON.parse ${(megabytes / (parse / 1000)).toFixed(0)} MB/s (scan/parse ${(scan / parse).toFixed(2)}); problems found ${problems / PASSES}`,
  );
}

measure('official R4 examples', texts(EXAMPLES, /\.json$/, (file) => readFileSync(file, 'utf8')));
if (existsSync(SYNTHEA)) measure('Synthea Bundles', texts(SYNTHEA, /\.json\.gz$/, (file) => gunzipSync(readFileSync(file)).toString('utf8')));
