import { UNRESTRICTED } from '../access/caller.js';
import { createAuthServer } from '../auth/auth-server.js';
import type { Config } from '../config/config.js';
import { createFhirContext } from '../pipeline/context.js';
import { loadRegistry } from '../search/custom-parameters.js';
import { extractIndexRows } from '../search/index/extract.js';
import { analyzeTables } from '../store/analyze.js';
import { openDatabase } from '../store/open.js';
import { SchemaValidator } from '../validation/schema-validator.js';
import { firstStartAccounts, type Secrets } from './accounts.js';
import { operatorActor, userActor } from './callers.js';
import { existingAccounts, existingResources, inspectDatabase } from './database-state.js';
import { peopleKeys, setUpPeople } from './people.js';
import { loadPopulation, type PopulationSource, putKeys } from './population.js';
import { actor } from './requests.js';
import { storyKeys, tellStory, type StoryRegistration } from './story.js';
import { ADMIN, CLIENTS, HOST, LOCAL_ADMIN, PARTNERS, USERS } from './world.js';

export interface DemoOptions {
  patients: number;
  /** Write the world beside other data. */
  force: boolean;
  population: PopulationSource;
}

/** Why the demo wrote nothing: the database holds other data (without --force), or records of the world itself. */
export type DemoRefusal = { kind: 'in-use'; otherData: string[] } | { kind: 'conflict'; existing: string[] };

export interface DemoWorld {
  secrets: Secrets;
  /** The first-start accounts were there, and now have new secrets. */
  adopted: boolean;
  registrations: StoryRegistration[];
  population: { patients: string[]; resources: number };
}

/**
 * Writes the demo world into the configured database, in one transaction: a failure at any step leaves the
 * database as it was. Refuses (writing nothing) a database holding other data unless `force`, and, even with
 * `force`, one that already holds any record the world would write (a demo run before, or ids in use).
 */
export async function writeDemoWorld(config: Config, options: DemoOptions): Promise<{ refused: DemoRefusal } | { world: DemoWorld }> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const state = await inspectDatabase(db);
    if (state.otherData.length && !options.force) return { refused: { kind: 'in-use', otherData: state.otherData } };

    // No generated patients, no generated colleagues either.
    const bundles = options.patients ? [...options.population({ patients: options.patients, host: HOST, partners: PARTNERS })] : [];
    const keys = [...(state.admin ? [] : [`Practitioner/${ADMIN}`, `PractitionerRole/${ADMIN}`]), ...peopleKeys(), ...storyKeys(), ...putKeys(bundles)];
    const usernames = USERS.map((user) => user.username).filter((name) => name !== ADMIN || !state.admin);
    const clientIds = CLIENTS.map((client) => client.registration.client_id).filter((id) => id !== LOCAL_ADMIN || !state.localAdmin);
    const accounts = await existingAccounts(db, usernames, clientIds);
    const existing = [...(await existingResources(db, keys)), ...accounts.users.map((name) => `account ${name}`), ...accounts.clients.map((id) => `client ${id}`)];
    if (existing.length) return { refused: { kind: 'conflict', existing } };

    const schema = new SchemaValidator();
    const { registry } = loadRegistry(config.searchParametersDir, schema);
    const baseUrl = config.baseUrl ?? `http://localhost:${config.port}/fhir`;
    const world = await db.transaction(async (tx) => {
      // The world's meaning needs its hosting organization, and its ids are chosen: PUT creates them.
      const context = createFhirContext(tx, schema, registry, (resource) => extractIndexRows(resource, registry), { ...config, hostingOrganization: HOST, allowUpdateCreate: true });
      const auth = createAuthServer(tx);
      const server = actor(context, baseUrl, UNRESTRICTED, 'the server itself');
      const secrets: Secrets = { passwords: new Map(), clientSecrets: new Map() };
      const now = new Date();

      const { adopted } = await firstStartAccounts(auth, context.store, server, state, USERS.find((user) => user.username === ADMIN)!, secrets);
      const people = await setUpPeople(auth, operatorActor(context, baseUrl), secrets);
      const as = (username: string) => userActor(tx, context, baseUrl, people.get(username)!);
      const cast = { coordinator: await as('coordinator'), contributor: await as('contributor'), viewer: await as('viewer'), gp: await as('gp'), server };
      const registrations = await tellStory(cast, now);
      const population = await loadPopulation(actor(context, baseUrl, UNRESTRICTED, 'the server itself (generated patients)'), bundles);
      return { secrets, adopted, registrations, population };
    });
    // The planner's statistics for the tables just filled, as the import command does.
    await analyzeTables(db);
    return { world };
  } finally {
    await db.close();
  }
}
