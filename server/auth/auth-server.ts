import type { Database } from '../store/database.js';
import { ClientStore } from './clients.js';
import { SigningKeys } from './signing-keys.js';

/** The authorization server's parts, built once per process; all state is in the database. */
export interface AuthServer {
  db: Database;
  clients: ClientStore;
  keys: SigningKeys;
}

export function createAuthServer(db: Database): AuthServer {
  return { db, clients: new ClientStore(db), keys: new SigningKeys(db) };
}
