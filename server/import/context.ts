import type { Config } from '../config/config.js';
import { createFhirContext } from '../pipeline/context.js';
import type { FhirContext } from '../rest/types.js';
import { loadRegistry } from '../search/custom-parameters.js';
import { extractIndexRows } from '../search/index/extract.js';
import { analyzeTables } from '../store/analyze.js';
import { openDatabase } from '../store/open.js';
import { SchemaValidator } from '../validation/schema-validator.js';

/** The interactions' context on the configured database, as the server builds it, for an in-process import. */
export async function createContext(config: Config): Promise<{ context: FhirContext; analyze: () => Promise<void>; close: () => Promise<void> }> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const schema = new SchemaValidator();
  const { registry } = loadRegistry(config.searchParametersDir, schema);
  const context = createFhirContext(db, schema, registry, (resource) => extractIndexRows(resource, registry), config);
  return { context, analyze: () => analyzeTables(db), close: () => db.close() };
}
