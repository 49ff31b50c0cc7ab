import pg from 'pg'; import { readFileSync } from 'node:fs';
const s = JSON.parse(readFileSync('/tmp/audit-stmt.json', 'utf8'));
const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3Dperf' }); await c.connect();
const tm = { b: 0, s: 0, r: 0, auto: 0, prep: 0 }; const n = 40;
for (let k = 0; k < n; k++) {
  let t = performance.now(); await c.query('BEGIN'); tm.b += performance.now() - t;
  t = performance.now(); await c.query(s.text, [s.params[0].map((x) => x + 'q' + k + Math.random()), ...s.params.slice(1)]); tm.s += performance.now() - t;
  t = performance.now(); await c.query('ROLLBACK'); tm.r += performance.now() - t;
}
for (let k = 0; k < n; k++) { const t = performance.now(); await c.query(s.text, [s.params[0].map((x) => x + 'a' + k + Math.random()), ...s.params.slice(1)]); tm.auto += performance.now() - t; }
for (let k = 0; k < n; k++) { const t = performance.now(); await c.query({ name: 'aud', text: s.text, values: [s.params[0].map((x) => x + 'p' + k + Math.random()), ...s.params.slice(1)] }); tm.prep += performance.now() - t; }
for (const k in tm) console.log(k, (tm[k] / n).toFixed(2), 'ms');
await c.end();
