import pg from 'pg'; import { readFileSync } from 'node:fs';
const s = JSON.parse(readFileSync('/tmp/audit-stmt.json', 'utf8'));
const contents = s.params[2];

const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3Dperf' }); await c.connect();
for (const q of [
  "EXPLAIN ANALYZE SELECT sha256(convert_to(c::text,'UTF8')) FROM unnest($1::jsonb[]) c",
  "EXPLAIN ANALYZE SELECT c::text FROM unnest($1::jsonb[]) c",
  "EXPLAIN ANALYZE SELECT sha256(convert_to(c::text,'UTF8')) FROM unnest($1::text[]) c",
  "EXPLAIN ANALYZE SELECT sha256(c::bytea) FROM unnest($1::text[]) c",
  "EXPLAIN ANALYZE SELECT md5(c::text) FROM unnest($1::jsonb[]) c",
]) for (let k = 0; k < 3; k++) { const r = await c.query(q, [contents]); if (k == 2) console.log(q.slice(16, 80), r.rows.slice(-1)[0]['QUERY PLAN'], r.rows[0]['QUERY PLAN'].replace(/.*actual/, '')); }
await c.end();
