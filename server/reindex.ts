import { ConfigError, loadConfig } from './config/config.js';
import { extractIndexRows } from './search/index/extract.js';
import { loadRegistry } from './search/custom-parameters.js';
import { openDatabase } from './store/open.js';
import { reindex } from './store/reindex.js';
import { SchemaValidator } from './validation/schema-validator.js';

/**
 * `npm run reindex [-- ResourceType]`: rebuilds the search index of existing resources after search parameters
 * changed (custom SearchParameters added or edited in SEARCH_PARAMETERS_DIR), with the same configuration as
 * the server. Safe while the server runs on PostgreSQL; refused while a server holds the embedded database's DATA_DIR.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const resourceType = process.argv[2];
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const { registry, custom } = loadRegistry(config.searchParametersDir, new SchemaValidator());
    console.log(`search parameters: ${custom.length} custom beside the official R4 ones`);
    const started = Date.now();
    const count = await reindex(db, (resource) => extractIndexRows(resource, registry), {
      resourceType,
      onBatch: (done) => process.stdout.write(`\rreindexed ${done} resources`),
    });
    const seconds = (Date.now() - started) / 1000;
    console.log(`\rreindexed ${count} ${resourceType ? `${resourceType} ` : ''}resources in ${seconds.toFixed(1)} s`);
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : `reindex failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
