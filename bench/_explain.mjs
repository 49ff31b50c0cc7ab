import pg from 'pg'; import { readFileSync } from 'node:fs';
const s = JSON.parse(readFileSync('/tmp/audit-stmt.json', 'utf8'));
const text = s.text;
const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3Dperf' }); await c.connect();
for (let k = 0; k < 3; k++) {
  await c.query('BEGIN');
  const ids = s.params[0].map((x) => x + 'z' + k + Math.random());
  const r = await c.query('EXPLAIN (ANALYZE, BUFFERS, TIMING) ' + text, [ids, ...s.params.slice(1)]);
  await c.query('ROLLBACK');
  if (k === 2) console.log(r.rows.map((x) => x['QUERY PLAN']).join('\n'));
}
// timing without explain
for (const mode of ['plain']) {
  const t = performance.now(); const n = 30;
  for (let k = 0; k < n; k++) { await c.query('BEGIN'); await c.query({ text, values: [s.params[0].map((x) => x + 'q' + k + Math.random()), ...s.params.slice(1)] }); await c.query('ROLLBACK'); }
  console.log(mode, ((performance.now() - t) / n).toFixed(2), 'ms');
}
await c.end();
