import type { Express } from 'express';
import { fileURLToPath } from 'node:url';
import { loadRequiredProfiles, type RequiredProfiles } from '../../server/conformance/required-profiles.js';
import { createApp } from '../../server/app.js';
import { type AuthServer, createAuthServer } from '../../server/auth/auth-server.js';
import type { IdentityProviderConfig } from '../../server/auth/federation/identity-providers.js';
import { createLogger } from '../../server/log/logger.js';
import type { FhirContext, FhirOptions } from '../../server/rest/types.js';
import { createFhirContext } from '../../server/pipeline/context.js';
import { extractIndexRows } from '../../server/search/index/extract.js';
import { R4_REGISTRY, type SearchParameterRegistry } from '../../server/search/registry.js';
import { SchemaValidator } from '../../server/validation/schema-validator.js';
import { type BulkExportEngine, type BulkExportOptions, createBulkExports } from '../../server/export/engine/engine.js';
import type { Backend, TestDatabase } from './backends.js';

/** One schema validator for a whole test file: compiling per type is the slow part, and it is stateless. */
let sharedSchema: SchemaValidator | undefined;
/**
 * The validators `npm run build` compiled (jest's global setup builds dist/ before any suite), as the server in
 * dist/ uses them, instead of compiling them again in every test file: seconds of CPU each. They are used only
 * if compiled from the schema these sources correct (SchemaValidator checks the fingerprint); that they validate
 * exactly as compiled ones do is test/unit/schema-precompiled.test.ts's business.
 */
const PRECOMPILED = fileURLToPath(new URL('../../dist/server/validation/precompiled/', import.meta.url));
export function schemaValidator(): SchemaValidator {
  return (sharedSchema ??= new SchemaValidator({ precompiledDir: PRECOMPILED }));
}

/** The committed required-profiles file, as a server started with the defaults uses it. */
function defaultRequiredProfiles(): RequiredProfiles {
  const loaded = loadRequiredProfiles(fileURLToPath(new URL('../../conformance/required-profiles.json', import.meta.url)));
  if ('problems' in loaded) throw new Error(`conformance/required-profiles.json: ${loaded.problems.join('; ')}`);
  return loaded;
}

export const TEST_OPTIONS: FhirOptions & { bodyLimitBytes: number } = {
  requiredProfiles: defaultRequiredProfiles(),
  allowUpdateCreate: true,
  allowMultipleDelete: false,
  maxBundleEntries: 10000,
  defaultPageSize: 20,
  maxPageSize: 1000,
  bodyLimitBytes: 1024 * 1024,
  referentialIntegrity: true,
  deleteReferenced: false,
};

export interface TestServer extends TestDatabase {
  app: Express;
  context: FhirContext;
  /** The authorization server, when the suite asked for one (`auth: true`); otherwise the API takes no tokens. */
  auth?: AuthServer;
  /** The bulk export engine, when the suite asked for one (`bulkExport`): not running; the suite works jobs off (`runOnce`). */
  bulk?: BulkExportEngine;
}

/** The real application over a private database of `backend`; nothing mocked. */
export async function openTestServer(
  backend: Backend,
  options: Partial<typeof TEST_OPTIONS> & {
    baseUrl?: string;
    registry?: SearchParameterRegistry;
    /** An authorization server in front of the API; with identity providers to sign in with, if given. */
    auth?: boolean | { identityProviders?: IdentityProviderConfig[] };
    corsOrigins?: string[];
    /** The built app served under /app/ (a folder such as dist/app); absent, /app/ answers 503. */
    appDir?: string;
    /** APP_FRAME_ANCESTORS: the EHR origins that may frame the app and the sign-in pages. */
    appFrameAncestors?: string[];
    /** A bulk export engine behind `$export`, with these options; it runs no job unless the suite says so. */
    bulkExport?: BulkExportOptions;
  } = {},
  database?: TestDatabase,
): Promise<TestServer> {
  const opened = database ?? (await backend.open());
  const { registry = R4_REGISTRY, auth: withAuth, bulkExport, ...rest } = options;
  const merged = { ...TEST_OPTIONS, ...rest };
  const schema = schemaValidator();
  const auth = withAuth ? createAuthServer(opened.db, withAuth === true ? {} : withAuth) : undefined;
  const bulk = bulkExport ? createBulkExports(opened.db, { registry, options: merged }, bulkExport) : undefined;
  const app = createApp({ db: opened.db, logger: createLogger('silent'), schema, registry, options: merged, auth, bulkExports: bulk });
  const context: FhirContext = createFhirContext(opened.db, schema, registry, (resource) => extractIndexRows(resource, registry), merged);
  if (bulk) context.bulkExports = bulk;
  return { ...opened, app, context, auth, bulk };
}
