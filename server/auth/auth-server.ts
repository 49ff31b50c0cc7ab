import type { Database } from '../store/database.js';
import { accessChangesOf } from './auth-changes.js';
import { CallerCache } from './caller-cache.js';
import { ClientStore } from './clients.js';
import { type IdentityProviderConfig, IdentityProviders } from './federation/identity-providers.js';
import { SigningKeys } from './signing-keys.js';
import { UserStore } from './users.js';

/** The authorization server's parts, built once per process; all state is in the database. */
export interface AuthServer {
  db: Database;
  clients: ClientStore;
  users: UserStore;
  keys: SigningKeys;
  identityProviders: IdentityProviders;
  /** The callers of access tokens this process has looked up, forgotten on every change of access. */
  callers: CallerCache;
}

export function createAuthServer(db: Database, options: { identityProviders?: IdentityProviderConfig[] } = {}): AuthServer {
  return {
    db,
    clients: new ClientStore(db),
    users: new UserStore(db),
    keys: new SigningKeys(db),
    identityProviders: new IdentityProviders(options.identityProviders),
    callers: new CallerCache(accessChangesOf(db)),
  };
}
