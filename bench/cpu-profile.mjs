// Where a server's CPU went, from a V8 profile (`BENCH_SERVER_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"`):
// `node bench/cpu-profile.mjs /tmp/prof/<file>.cpuprofile [top]` prints self time by function and by source file,
// and the total time under each of the server's own files (inclusive), each as a share of the profile's samples.
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/cpu-profile.mjs <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

// Time per sample: the gaps between samples (microseconds).
const self = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const us = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + us);
}
const total = [...self.values()].reduce((a, b) => a + b, 0);

const where = (frame) => (frame.url ? frame.url.replace(/^file:\/\//, '').replace(/^.*?\/(dist|node_modules)\//, '$1/') : '(native)');
const nameOf = (frame) => `${frame.functionName || '(anonymous)'} ${where(frame)}:${frame.lineNumber + 1}`;

const add = (map, key, us) => map.set(key, (map.get(key) ?? 0) + us);
const functions = new Map();
const files = new Map();
const inclusive = new Map();
for (const [id, us] of self) {
  const frame = byId.get(id).callFrame;
  add(functions, nameOf(frame), us);
  add(files, where(frame), us);
  // Inclusive time per file: once per file on the stack.
  const seen = new Set();
  for (let node = id; node !== undefined; node = parent.get(node)) {
    const file = where(byId.get(node).callFrame);
    if (!seen.has(file)) {
      seen.add(file);
      add(inclusive, file, us);
    }
  }
}

const show = (title, map, filter = () => true) => {
  console.log(`\n${title}`);
  for (const [key, us] of [...map].filter(([key]) => filter(key)).sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1e6).toFixed(2).padStart(7)} s  ${key}`);
  }
};
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
show('self time by function', functions);
show('self time by file', files);
show("inclusive time by the server's files", inclusive, (key) => key.startsWith('dist/'));
