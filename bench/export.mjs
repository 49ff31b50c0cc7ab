// Bulk Data export throughput and the server's memory (issue 21): a system-level export of every stored resource,
// on each database in turn, at BENCH_EXPORT_RESOURCES stored resources (default 1,000,000).
//
// - The store: synthetic CCP patients (bench/generate) written through the server's own bulk write path, index and
//   all (bench/export-seed.mjs, which says why not through the API), kept for reruns: BENCH_EXPORT_REUSE=true takes
//   the kept PostgreSQL schema or PGlite folder again instead of seeding anew.
// - The server (harness.mjs, core 1, access tokens on) on it; the bootstrap backend client's token with
//   `system/*.rs`, as other benches use it (taken again every four minutes: tokens live five).
// - Kick-off `GET [base]/$export` with `Prefer: respond-async` (202, Content-Location), polls of the status URL every
//   BENCH_EXPORT_POLL_MS (250; a 429 waits its Retry-After) until 200 and the manifest, then every `output` and
//   `error` file downloaded with the token, streamed (each file's lines counted against the manifest's `count`, its
//   first line parsed and its type checked), BENCH_EXPORT_DOWNLOADS at a time (1), by BENCH_EXPORT_CLIENT: `fetch`
//   (default: Node's fetch, lines counted as the bytes arrive) or `curl` (each file written to a temporary folder,
//   as `curl -o` in docs/BULK.md does, and counted after the last download, outside the timing). The job is deleted at the end
//   (DELETE of the status URL), so a kept store does not grow by an export's files each run.
// - Timed: kick-off to the last byte of the last file (what a client sees: resources/s and MB/s, MB = 10^6 bytes);
//   the engine alone, from the manifest's transactionTime (the kick-off's clock) to the manifest's arrival (within
//   one poll), and on PostgreSQL from the job's own row (bulk_job.created → completed) when the schema has one;
//   the downloads alone.
// - Memory: the server's VmRSS (/proc/<pid>/status) and CPU every 250 ms from just before the kick-off to the end
//   of the downloads; reported before, at 10 %, 50 % and 100 % of the export (by the engine's elapsed time, and by
//   X-Progress when the server gives one), the peak while exporting and while downloading.
//
// `npm run bench` runs it among its extra phases (BENCH_EXPORT=none leaves it out); by itself (after `npm run build`):
//   node bench/export.mjs                        prints the results
//   node bench/export.mjs --into <results.json>  stores them as `bulkExport` in that run's results file and writes
//                                                docs/PERFORMANCE.md again from it
//   BENCH_EXPORT_DATABASES   postgres,pglite (default both)     BENCH_EXPORT_RESOURCES  1000000 (10000 for a quick run)
//   BENCH_EXPORT_REUSE       true: reuse the kept seeded store  BENCH_EXPORT_KEEP       false: remove it afterwards
//   BENCH_EXPORT_SERVER_ENV  extra server settings, e.g. `BULK_EXPORT_CHUNK_ROWS=5000 BULK_EXPORT_FILE_BYTES=...`
//   BENCH_EXPORT_PG_OPTIONS  the server's PostgreSQL session settings, e.g. `-c synchronous_commit=off` (experiments)
//   BENCH_SERVER_ARGS        the server node's own arguments (`--cpu-prof --cpu-prof-dir=/tmp/prof`), as elsewhere
import { execFile, execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import os from 'node:os';
import pg from 'pg';
import { openSeeded } from './export-seed.mjs';
import { accessToken, log, commitOf, machine, PIN, root } from './harness.mjs';
import { startServer } from './harness.mjs';

const LABELS = { postgres: 'PostgreSQL', pglite: 'PGlite' };
const WANTED = (process.env.BENCH_EXPORT_DATABASES ?? 'postgres,pglite').split(',').map((name) => name.trim()).filter(Boolean);
const RESOURCES = Number(process.env.BENCH_EXPORT_RESOURCES ?? 1_000_000);
const REUSE = process.env.BENCH_EXPORT_REUSE === 'true';
const KEEP = process.env.BENCH_EXPORT_KEEP !== 'false';
const POLL_MS = Number(process.env.BENCH_EXPORT_POLL_MS ?? 250);
const DOWNLOADS = Number(process.env.BENCH_EXPORT_DOWNLOADS ?? 1);
const CLIENT = process.env.BENCH_EXPORT_CLIENT ?? 'fetch';
const SAMPLE_MS = 250;
const SCOPE = 'system/*.rs';
const TOKEN_MS = 4 * 60_000;
/** Given up on when the status has not changed for this long. */
const STALL_MS = 10 * 60_000;

/** The server's settings for the bench: polls every POLL_MS allowed (no 429), then BENCH_EXPORT_SERVER_ENV's. */
const serverEnv = () => ({
  BULK_EXPORT_MIN_POLL_SECONDS: '0',
  ...Object.fromEntries(
    (process.env.BENCH_EXPORT_SERVER_ENV ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  ),
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU seconds (user + system) the process `pid` has used so far. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function rssKb(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  } catch {
    return undefined;
  }
}

/** Samples the server's RSS and CPU every SAMPLE_MS, each tagged with the phase and progress the bench knows of. */
function sampler(pid) {
  const started = performance.now();
  const samples = [];
  const now = { phase: 'before', progress: undefined };
  const take = () => samples.push({ ms: Math.round(performance.now() - started), rssMb: rssKb(pid) / 1024, cpuSeconds: cpuSeconds(pid), phase: now.phase, progress: now.progress });
  take();
  let timer = setInterval(take, SAMPLE_MS);
  return {
    samples,
    set(phase, progress) {
      now.phase = phase;
      now.progress = progress;
    },
    /** ms since the sampler started. */
    at: () => performance.now() - started,
    /** Ends the sampling with a last sample: the end of the run (once; later calls change nothing). */
    stop() {
      if (!timer) return;
      clearInterval(timer);
      timer = undefined;
      take();
    },
  };
}

/** A token getter that takes a new token when the last one is four minutes old. */
function tokens(server) {
  let token;
  let taken = 0;
  return async () => {
    if (!token || Date.now() - taken > TOKEN_MS) {
      token = await accessToken(server.base, 'local-admin', server.secret, SCOPE);
      taken = Date.now();
    }
    return token;
  };
}

/** The first number of an X-Progress header ("42%", "42 % done", "exporting Patient (3 of 40)" → 42, 42, 3/40). */
function progressOf(header) {
  if (!header) return undefined;
  const of = /(\d+)\s+of\s+(\d+)/.exec(header);
  if (of) return (100 * Number(of[1])) / Number(of[2]);
  const number = /(\d+(?:\.\d+)?)/.exec(header);
  return number ? Number(number[1]) : undefined;
}

/** Kick-off, polls until the manifest. Resolves with the manifest, the status URL and what the polls saw. */
async function runExport(server, token, meter) {
  const kickOff = await fetch(`${server.base}/fhir/$export`, {
    headers: { authorization: `Bearer ${await token()}`, accept: 'application/fhir+json', prefer: 'respond-async' },
  });
  const kickOffBody = await kickOff.text();
  if (kickOff.status !== 202) throw new Error(`kick-off: ${kickOff.status} ${kickOffBody.slice(0, 500)}`);
  const status = kickOff.headers.get('content-location');
  if (!status) throw new Error('kick-off: 202 without Content-Location');
  const kickedOffMs = meter.at();
  meter.set('export', 0);
  const polls = { count: 0, tooSoon: 0, progress: [] };
  let lastChange = Date.now();
  let lastHeader;
  for (;;) {
    const response = await fetch(status, { headers: { authorization: `Bearer ${await token()}`, accept: 'application/json' } });
    polls.count++;
    if (response.status === 200) {
      const manifest = await response.json();
      return { manifest, status, kickedOffMs, manifestMs: meter.at(), polls };
    }
    const body = await response.text();
    if (response.status === 429) {
      polls.tooSoon++;
      await sleep(Math.max(POLL_MS, Number(response.headers.get('retry-after') ?? 1) * 1000));
      continue;
    }
    if (response.status !== 202) throw new Error(`status: ${response.status} ${body.slice(0, 500)}`);
    const header = response.headers.get('x-progress') ?? undefined;
    if (header !== lastHeader) {
      lastHeader = header;
      lastChange = Date.now();
      const progress = progressOf(header);
      polls.progress.push({ ms: Math.round(meter.at() - kickedOffMs), header });
      meter.set('export', progress);
    } else if (Date.now() - lastChange > STALL_MS) {
      throw new Error(`the export made no progress for ${STALL_MS / 60_000} minutes (X-Progress ${header})`);
    }
    await sleep(POLL_MS);
  }
}

/**
 * One file with curl into `folder`, as a client following docs/BULK.md would; `check` counts its lines and parses
 * its first line afterwards (so the counting is not in the download's time), then removes it.
 */
async function curlDownload(file, token, folder) {
  const target = path.join(folder, `${file.url.split('/').pop()}.ndjson`);
  const { stdout } = await promisify(execFile)('curl', [
    '-sS', '-o', target, '-w', '%{http_code} %{content_type}',
    '-H', `authorization: Bearer ${await token()}`, '-H', 'accept: application/fhir+ndjson', file.url,
  ]);
  const [status, contentType] = stdout.split(' ');
  if (status !== '200') throw new Error(`${file.url}: ${status} ${readFileSync(target, 'utf8').slice(0, 300)}`);
  return {
    async check() {
      let bytes = 0;
      let lines = 0;
      let first = '';
      let last = 10;
      for await (const chunk of createReadStream(target)) {
        bytes += chunk.length;
        if (first.length < 1_000_000 && !first.includes('\n')) first += chunk.toString('utf8');
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
        last = chunk[chunk.length - 1];
      }
      rmSync(target);
      if (bytes && last !== 10) lines++;
      const head = first.split('\n')[0];
      return { type: file.type, bytes, lines, expected: file.count, firstType: head ? JSON.parse(head).resourceType : undefined, contentType };
    },
  };
}

/** One file, streamed: its bytes and lines counted, its first line parsed. */
async function download(file, token, onLines) {
  const response = await fetch(file.url, { headers: { authorization: `Bearer ${await token()}`, accept: 'application/fhir+ndjson' } });
  if (response.status !== 200) throw new Error(`${file.url}: ${response.status} ${(await response.text()).slice(0, 300)}`);
  let bytes = 0;
  let lines = 0;
  let first = '';
  let endsWithNewline = true;
  for await (const chunk of response.body) {
    bytes += chunk.length;
    if (first.length < 1_000_000 && !first.includes('\n')) first += Buffer.from(chunk).toString('utf8');
    let found = 0;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) found++;
    lines += found;
    onLines(found);
    endsWithNewline = chunk[chunk.length - 1] === 10;
  }
  if (bytes && !endsWithNewline) lines++;
  const head = first.split('\n')[0];
  const firstType = head ? JSON.parse(head).resourceType : undefined;
  return { type: file.type, bytes, lines, expected: file.count, firstType, contentType: response.headers.get('content-type') };
}

/** The job's own timing in the database (PostgreSQL: the bench can read the schema while the server runs). */
async function jobRow(databaseUrl, status) {
  if (!databaseUrl) return undefined;
  const id = decodeURIComponent(new URL(status).pathname.split('/').pop());
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query('SELECT * FROM bulk_job WHERE id = $1', [id]);
    const row = rows[0];
    if (!row) return undefined;
    const time = (value) => (value ? new Date(value).toISOString() : undefined);
    return { created: time(row.created), transactionTime: time(row.transaction_time), completed: time(row.completed), state: row.state };
  } catch (error) {
    return { unreadable: error.message };
  } finally {
    await db.end();
  }
}

async function storedCounts(databaseUrl) {
  if (!databaseUrl) return undefined;
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query('SELECT resource_type, count(*)::int AS n FROM resource WHERE NOT deleted GROUP BY 1 ORDER BY 2 DESC');
    return Object.fromEntries(rows.map((row) => [row.resource_type, row.n]));
  } finally {
    await db.end();
  }
}

/** RSS at a share of the export: the first sample at or past it. */
function rssAt(samples, predicate) {
  return samples.find(predicate)?.rssMb;
}

function memoryOf(samples, kickedOffMs, manifestMs) {
  const exporting = samples.filter((s) => s.ms >= kickedOffMs && s.ms <= manifestMs);
  const downloading = samples.filter((s) => s.ms > manifestMs);
  const byTime = (share) => rssAt(samples, (s) => s.ms >= kickedOffMs + share * (manifestMs - kickedOffMs));
  const byProgress = (share) => rssAt(exporting, (s) => s.progress !== undefined && s.progress >= share * 100);
  const max = (list) => (list.length ? Math.max(...list.map((s) => s.rssMb)) : undefined);
  return {
    beforeMb: samples.filter((s) => s.ms <= kickedOffMs).at(-1)?.rssMb ?? samples[0]?.rssMb,
    byTime: { at10: byTime(0.1), at50: byTime(0.5), at100: byTime(1) },
    byProgress: { at10: byProgress(0.1), at50: byProgress(0.5), at100: byProgress(1) },
    exportPeakMb: max(exporting),
    downloadPeakMb: max(downloading),
    peakMb: max(samples),
    endMb: samples.at(-1)?.rssMb,
  };
}

async function benchDatabase(name) {
  const label = LABELS[name];
  const seeded = await openSeeded(name, RESOURCES, { reuse: REUSE });
  const result = { name, label, measuredAt: new Date().toISOString(), commit: commitOf(), where: seeded.where, seeding: seeded.state.seeding, reusedStore: Boolean(seeded.state.reused), serverEnv: serverEnv(), ...(name === 'postgres' && process.env.BENCH_EXPORT_PG_OPTIONS ? { sessionOptions: process.env.BENCH_EXPORT_PG_OPTIONS } : {}) };
  let server;
  try {
    server = await startServer({ ...seeded.env, ...serverEnv() }, { secret: seeded.state.secret });
    if (!seeded.state.secret) seeded.saveSecret(server.secret);
    result.stored = await storedCounts(seeded.env.DATABASE_URL);
    const token = tokens(server);
    await token();
    await sleep(1000);
    const meter = sampler(server.pid);
    const cpuBefore = cpuSeconds(server.pid);
    const loadBefore = os.loadavg()[0];
    let exported;
    const downloads = [];
    let downloadedLines = 0;
    try {
      log(`export ${label}: kick-off on ${seeded.where}`);
      exported = await runExport(server, token, meter);
      const { manifest } = exported;
      const files = [...(manifest.output ?? []), ...(manifest.error ?? [])];
      const count = (manifest.output ?? []).reduce((sum, file) => sum + (file.count ?? 0), 0);
      log(`export ${label}: manifest after ${((exported.manifestMs - exported.kickedOffMs) / 1000).toFixed(1)} s: ${files.length} files, ${count.toLocaleString('en')} resources; downloading`);
      meter.set('download', 0);
      const queue = [...files];
      const lines = files.reduce((sum, file) => sum + (file.count ?? 0), 0);
      const folder = CLIENT === 'curl' ? mkdtempSync(path.join(os.tmpdir(), 'ccp-bench-export-')) : undefined;
      const fetched = [];
      const worker = async () => {
        for (let file = queue.shift(); file; file = queue.shift()) {
          if (folder) {
            fetched.push(await curlDownload(file, token, folder));
            downloadedLines += file.count ?? 0;
            meter.set('download', lines ? (100 * downloadedLines) / lines : undefined);
            continue;
          }
          downloads.push(
            await download(file, token, (n) => {
              downloadedLines += n;
              meter.set('download', lines ? (100 * downloadedLines) / lines : undefined);
            }),
          );
        }
      };
      try {
        await Promise.all(Array.from({ length: DOWNLOADS }, worker));
        meter.stop();
        for (const file of fetched) downloads.push(await file.check());
      } finally {
        if (folder) rmSync(folder, { recursive: true, force: true });
      }
    } finally {
      meter.stop();
    }
    const endMs = meter.samples.at(-1).ms;
    const cpuAfter = cpuSeconds(server.pid);
    const { manifest, kickedOffMs, manifestMs, polls, status } = exported;
    const resources = downloads.filter((d) => d.type !== 'OperationOutcome').reduce((sum, d) => sum + d.lines, 0);
    const bytes = downloads.reduce((sum, d) => sum + d.bytes, 0);
    const byType = {};
    for (const d of downloads) byType[d.type] = (byType[d.type] ?? 0) + d.lines;
    const mismatched = downloads.filter((d) => d.lines !== d.expected || (d.firstType && d.firstType !== d.type));
    const totalSeconds = (endMs - kickedOffMs) / 1000;
    const observedEngineSeconds = (manifestMs - kickedOffMs) / 1000;
    const job = await jobRow(seeded.env.DATABASE_URL, status);
    const jobSeconds = job?.completed && (job.created ?? job.transactionTime) ? (Date.parse(job.completed) - Date.parse(job.created ?? job.transactionTime)) / 1000 : undefined;
    const downloadSeconds = (endMs - manifestMs) / 1000;
    Object.assign(result, {
      transactionTime: manifest.transactionTime,
      requiresAccessToken: manifest.requiresAccessToken,
      files: downloads.length,
      outputFiles: (manifest.output ?? []).length,
      errorFiles: (manifest.error ?? []).length,
      resources,
      byType,
      bytes,
      mismatched,
      contentTypes: [...new Set(downloads.map((d) => d.contentType))],
      totalSeconds,
      resourcesPerSecond: resources / totalSeconds,
      mbPerSecond: bytes / 1e6 / totalSeconds,
      engine: { observedSeconds: observedEngineSeconds, jobSeconds, job, resourcesPerSecond: resources / (jobSeconds ?? observedEngineSeconds), polls },
      download: { seconds: downloadSeconds, resourcesPerSecond: resources / downloadSeconds, mbPerSecond: bytes / 1e6 / downloadSeconds, parallel: DOWNLOADS, client: CLIENT },
      memory: memoryOf(meter.samples, kickedOffMs, manifestMs),
      cpu: { serverSeconds: cpuAfter - cpuBefore, serverCoreShare: (cpuAfter - cpuBefore) / ((endMs - kickedOffMs) / 1000), loadBefore, loadAfter: os.loadavg()[0] },
      rssSamples: meter.samples.map(({ ms, rssMb, phase, progress }) => [ms, Math.round(rssMb * 10) / 10, phase, progress === undefined ? null : Math.round(progress * 10) / 10]),
    });
    const m = result.memory;
    log(
      `export ${label}: ${resources.toLocaleString('en')} resources, ${(bytes / 1e6).toFixed(0)} MB in ${totalSeconds.toFixed(1)} s kick-off → last byte: ${result.resourcesPerSecond.toFixed(0)} resources/s, ${result.mbPerSecond.toFixed(1)} MB/s; ` +
        `engine ${(jobSeconds ?? observedEngineSeconds).toFixed(1)} s (${result.engine.resourcesPerSecond.toFixed(0)}/s), downloads ${downloadSeconds.toFixed(1)} s (${result.download.mbPerSecond.toFixed(1)} MB/s); ` +
        `RSS before ${m.beforeMb?.toFixed(0)} MB, 10/50/100 % ${m.byTime.at10?.toFixed(0)}/${m.byTime.at50?.toFixed(0)}/${m.byTime.at100?.toFixed(0)} MB, peak ${m.peakMb?.toFixed(0)} MB; ${mismatched.length} files not as the manifest said`,
    );
    // The job and its files go: a kept store must not grow by an export each run.
    const removed = await fetch(status, { method: 'DELETE', headers: { authorization: `Bearer ${await token()}` } });
    result.deleteStatus = removed.status;
    await removed.text();
  } finally {
    await server?.stop();
    if (!KEEP) await seeded.drop();
  }
  return result;
}


export async function measureBulkExport() {
  const unknown = WANTED.filter((name) => !LABELS[name]);
  if (unknown.length || !WANTED.length) throw new Error(`BENCH_EXPORT_DATABASES: ${unknown.join(', ') || '(none)'}: choose among ${Object.keys(LABELS).join(', ')}`);
  if (!Number.isSafeInteger(RESOURCES) || RESOURCES <= 0) throw new Error(`BENCH_EXPORT_RESOURCES: a whole number (got ${process.env.BENCH_EXPORT_RESOURCES})`);
  const databases = [];
  for (const name of WANTED) databases.push(await benchDatabase(name));
  return { measuredAt: new Date().toISOString(), commit: commitOf(), machine: machine(), pinned: PIN, resources: RESOURCES, serverArgs: process.env.BENCH_SERVER_ARGS || undefined, databases };
}

// `node bench/export.mjs [--into bench/results/<run>.json]`
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const into = process.argv.indexOf('--into') > 0 ? process.argv[process.argv.indexOf('--into') + 1] : undefined;
  // The downloads on the first core, the server on the second, as in `npm run bench`.
  if (PIN) execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  const bulkExport = await measureBulkExport();
  if (into) {
    const { writeReport } = await import('./report.mjs');
    const results = JSON.parse(readFileSync(into, 'utf8'));
    // A database measured before (by an earlier `--into` of this bench) and not now is kept, with its own date and commit.
    const measured = new Set(bulkExport.databases.map((db) => db.name));
    const kept = (results.bulkExport?.resources === bulkExport.resources ? results.bulkExport.databases : []).filter((db) => !measured.has(db.name));
    results.bulkExport = { ...bulkExport, databases: [...kept, ...bulkExport.databases].sort((a, b) => Object.keys(LABELS).indexOf(a.name) - Object.keys(LABELS).indexOf(b.name)) };
    writeFileSync(into, `${JSON.stringify(results, null, 2)}\n`);
    writeReport(root, into, results);
    log(`bulk export results in ${into} and docs/PERFORMANCE.md`);
  } else {
    console.log(JSON.stringify({ ...bulkExport, databases: bulkExport.databases.map(({ rssSamples, ...rest }) => ({ ...rest, rssSamples: `${rssSamples.length} samples` })) }, null, 2));
  }
}
