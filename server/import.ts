import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/config.js';
import { createContext } from './import/context.js';
import { importFiles, type SendTransaction } from './import/importer.js';
import { formatSummary, progressReporter } from './import/progress.js';
import { sendInProcess, sendOverHttp } from './import/send.js';
import { expandPaths } from './import/sources.js';

const USAGE = `usage: npm run import -- [--url FHIR_BASE [--token ACCESS_TOKEN]] [--parallel N] FILE_OR_FOLDER...
  Loads transaction Bundles (.json, .json.gz) and resources (.ndjson, .ndjson.gz, one per line).
  Without --url the data goes straight into the configured database (DATABASE_URL, or the embedded
  database in DATA_DIR: stop the server first, the embedded database takes one process at a time).
  With --url it is POSTed to a running server, e.g. --url http://localhost:8080/fhir, with --token as the
  bearer token (e.g. from npm run -s token -- --client local-admin --secret … --scope 'system/*.cruds').
  --parallel N: files imported at once (default 4 on PostgreSQL or --url; the embedded database takes one at a time).`;

/** `npm run import -- FILE…`: one transaction per Bundle, a progress bar on a terminal, a summary at the end. */
async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ options: { url: { type: 'string' }, token: { type: 'string' }, parallel: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  if (values.help || !positionals.length) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const parallel = values.parallel !== undefined ? Number(values.parallel) : undefined;
  if (parallel !== undefined && (!Number.isInteger(parallel) || parallel < 1 || parallel > 64)) {
    console.error(`--parallel must be a whole number from 1 to 64, not ${values.parallel}`);
    return 2;
  }
  if (values.token !== undefined && !values.url) {
    console.error('--token goes with --url: without it the data goes straight into the database, which needs no token');
    return 2;
  }
  const files = expandPaths(positionals);
  if (!files.length) {
    console.error(`no .json, .json.gz, .ndjson or .ndjson.gz files in ${positionals.join(', ')}`);
    return 2;
  }
  let send: SendTransaction;
  let close = async () => {};
  let analyze = async () => {};
  let embedded = false;
  if (values.url) {
    send = sendOverHttp(values.url, values.token ? { Authorization: `Bearer ${values.token}` } : {});
  } else {
    const config = loadConfig();
    const opened = await createContext(config);
    send = sendInProcess(opened.context, config.baseUrl ?? `http://localhost:${config.port}/fhir`);
    close = opened.close;
    analyze = opened.analyze;
    embedded = !config.databaseUrl;
  }
  // Files in flight at once: four where a database server works beside us (each file's commit waits its turn on the
  // audit chain's head, so more in flight keep both sides busy: bench/analysis.md); the embedded one runs in this process.
  const concurrency = parallel ?? (embedded ? 1 : 4);
  try {
    const summary = await importFiles(files, send, progressReporter(process.stderr), { concurrency });
    // The planner's statistics, for the tables just filled: searches plan well at once.
    if (summary.resources) await analyze();
    console.log(formatSummary(summary));
    return summary.failed.length ? 1 : 0;
  } finally {
    await close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : `import failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
