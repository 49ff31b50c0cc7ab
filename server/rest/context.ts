import { AuditLog } from '../audit/audit-log.js';
import type { SearchParameterRegistry } from '../search/registry.js';
import type { Database } from '../store/database.js';
import { type Indexer, SqlResourceStore } from '../store/sql-resource-store.js';
import { sharedTerminology } from '../terminology/shared.js';
import { sharedProfiles } from '../validation/profiles.js';
import type { SchemaValidator } from '../validation/schema-validator.js';
import type { FhirContext, FhirOptions } from './types.js';

/** The one place the interactions' context is assembled, for the server and the tests alike. */
export function createFhirContext(
  db: Database,
  schema: SchemaValidator,
  registry: SearchParameterRegistry,
  index: Indexer,
  options: FhirOptions,
): FhirContext {
  const store = new SqlResourceStore(db, index);
  // The terminology loads its definitions on first use, so the server starts without waiting for them.
  return { store, schema, registry, options, auditLog: new AuditLog(db, store), terminology: sharedTerminology(), profiles: sharedProfiles(options.requiredProfiles) };
}
