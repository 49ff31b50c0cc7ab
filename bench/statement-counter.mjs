// Counts the SQL statements a server process sends to PostgreSQL, by statement, with the time each took from the
// call to its answer (queueing on the connection included). Loaded into the server with node's `--import` (the
// notifications bench does, on PostgreSQL; any bench can through BENCH_SERVER_ARGS="--import ./bench/statement-counter.mjs"):
// it wraps `pg`'s Client.prototype.query, so every statement of the pool's connections and of transactions is seen.
// On SIGUSR2 (and at exit) it writes what it counted so far to BENCH_STATEMENTS_FILE as JSON: an array of
// [statement's first 120 characters, { count, ms }], the costliest first. PGlite's statements are not seen.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const file = process.env.BENCH_STATEMENTS_FILE;
if (file) {
  // The server's own `pg` (dist/ resolves it from the project root, this process's working directory).
  const pg = createRequire(path.join(process.cwd(), 'package.json'))('pg');
  const counts = new Map();
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function counted(config, values, callback) {
    const text = typeof config === 'string' ? config : config?.text;
    const key = String(text ?? '?').replace(/\s+/g, ' ').trim().slice(0, 120);
    const started = performance.now();
    let counted = false;
    const done = () => {
      if (counted) return;
      counted = true;
      const entry = counts.get(key) ?? { count: 0, ms: 0 };
      entry.count++;
      entry.ms += performance.now() - started;
      counts.set(key, entry);
    };
    // The pool calls with a callback, transactions without (a promise): both are counted when answered.
    const wrap = (cb) => (...args) => {
      done();
      return cb(...args);
    };
    if (typeof values === 'function') values = wrap(values);
    else if (typeof callback === 'function') callback = wrap(callback);
    else if (typeof config?.callback === 'function') config.callback = wrap(config.callback);
    const result = query.call(this, config, values, callback);
    if (result && typeof result.then === 'function') result.then(done, done);
    return result;
  };
  const dump = () => writeFileSync(file, JSON.stringify([...counts].sort((a, b) => b[1].ms - a[1].ms)));
  process.on('SIGUSR2', dump);
  process.on('exit', dump);
}
