import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import type { PopulationSource } from './population.js';
import { writeDemoWorld } from './run.js';
import { demoSummary, refusalMessage } from './summary.js';

export const DEFAULT_PATIENTS = 20;
const MOST_PATIENTS = 100_000;

const USAGE = `usage: npm run demo -- [--patients N] [--force]
  Writes the demo world (docs/DEMO.md) straight into the configured database: DATABASE_URL, or the embedded
  database in DATA_DIR (stop the server first: the embedded database takes one process at a time). Prints the
  accounts' secrets once, as export lines to paste, then how to start the server.
  --patients N  generated patients beside the five story patients (default ${DEFAULT_PATIENTS}; 0 for none)
  --force       write the world beside data the database already holds (never over an earlier demo world)
  A database holding only the accounts the server made at its first start (admin, local-admin) is used as it
  is: those two keep their ids and get a new password and secret, printed with the others.`;

/**
 * `npm run demo` (scripts/demo.mjs hands in the generated patients): 0 when the world is written, 1 when the
 * database was refused or a step failed (nothing is written then), 2 on a usage error.
 */
export async function runDemoCommand(args: string[], population: PopulationSource, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { patients: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const patients = values.patients === undefined ? DEFAULT_PATIENTS : Number(values.patients);
  if (!Number.isInteger(patients) || patients < 0 || patients > MOST_PATIENTS) {
    console.error(`--patients must be a whole number from 0 to ${MOST_PATIENTS}, not ${values.patients}`);
    return 2;
  }

  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  const where = config.databaseUrl ? `the PostgreSQL database ${describeUrl(config.databaseUrl)}` : `the embedded database in ${config.dataDir}`;
  const started = Date.now();
  try {
    console.error(`Writing the demo world (${patients} generated patients) into ${where} …`);
    const outcome = await writeDemoWorld(config, { patients, force: Boolean(values.force), population });
    if ('refused' in outcome) {
      console.error(refusalMessage(outcome.refused, where));
      return 1;
    }
    const root = config.baseUrl ? config.baseUrl.replace(/\/fhir$/, '') : `http://localhost:${config.port}`;
    console.log(demoSummary(outcome.world, root, (Date.now() - started) / 1000));
    return 0;
  } catch (error) {
    console.error(`npm run demo failed, and wrote nothing: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

/** Host and database of a connection string, never its password. */
function describeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname}`;
}
