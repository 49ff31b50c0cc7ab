import { randomBytes } from 'node:crypto';
import { openPostgres } from '../../server/store/postgres.js';

/** A login role of the test PostgreSQL, and a connection string that signs in as it. */
export interface TestRole {
  name: string;
  url: string;
  /** Takes back its privileges and drops it: close every pool that uses it first. */
  drop(): Promise<void>;
}

/**
 * docs/DEPLOY.md's server role: it may read and write the tables of `schema` and nothing else (it owns none, so it
 * may neither change the schema nor analyze the tables). `url` is `schemaUrl` (a test schema's connection string)
 * signed in as the role.
 */
export async function createReadWriteRole(baseUrl: string, schema: string, schemaUrl: string): Promise<TestRole> {
  const name = `ccp_rw_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  const admin = openPostgres(baseUrl, 1);
  try {
    await admin.exec(`CREATE ROLE ${name} LOGIN PASSWORD '${password}'`);
    await admin.exec(`GRANT USAGE ON SCHEMA ${schema} TO ${name}`);
    await admin.exec(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${name}`);
  } finally {
    await admin.close();
  }
  const url = new URL(schemaUrl);
  url.username = name;
  url.password = password;
  return {
    name,
    url: url.toString(),
    async drop() {
      const cleanup = openPostgres(baseUrl, 1);
      try {
        await cleanup.exec(`DROP OWNED BY ${name}`);
        await cleanup.exec(`DROP ROLE ${name}`);
      } finally {
        await cleanup.close();
      }
    },
  };
}
