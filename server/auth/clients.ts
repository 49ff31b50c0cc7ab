import { accessChanged } from './auth-changes.js';
import type { JWK } from 'jose';
import type { Database } from '../store/database.js';

export type ClientKind = 'public' | 'confidential' | 'backend';
export type ClientAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** A registered OAuth client: a SMART app or a backend system. */
export interface Client {
  clientId: string;
  name: string;
  kind: ClientKind;
  authMethod: ClientAuthMethod;
  secretHash?: string;
  redirectUris: string[];
  /** The most this client may be granted. */
  scope: string;
  jwks?: { keys: JWK[] };
  jwksUri?: string;
  organizationId?: string;
  active: boolean;
  source: 'config' | 'api';
}

interface ClientRow {
  client_id: string;
  name: string;
  kind: ClientKind;
  auth_method: ClientAuthMethod;
  secret_hash: string | null;
  redirect_uris: string[];
  scope: string;
  jwks: { keys: JWK[] } | null;
  jwks_uri: string | null;
  organization_id: string | null;
  active: boolean;
  source: 'config' | 'api';
}

const COLUMNS = 'client_id, name, kind, auth_method, secret_hash, redirect_uris, scope, jwks, jwks_uri, organization_id, active, source';

function fromRow(row: ClientRow): Client {
  return {
    clientId: row.client_id,
    name: row.name,
    kind: row.kind,
    authMethod: row.auth_method,
    secretHash: row.secret_hash ?? undefined,
    redirectUris: row.redirect_uris,
    scope: row.scope,
    jwks: row.jwks ?? undefined,
    jwksUri: row.jwks_uri ?? undefined,
    organizationId: row.organization_id ?? undefined,
    active: row.active,
    source: row.source,
  };
}

/** Registered clients, in the database (static configuration is written there at start). */
export class ClientStore {
  constructor(private readonly db: Database) {}

  async find(clientId: string): Promise<Client | undefined> {
    const rows = await this.db.query<ClientRow>(`SELECT ${COLUMNS} FROM auth_client WHERE client_id = $1`, [clientId]);
    return rows.length ? fromRow(rows[0]) : undefined;
  }

  async list(): Promise<Client[]> {
    return (await this.db.query<ClientRow>(`SELECT ${COLUMNS} FROM auth_client ORDER BY client_id`)).map(fromRow);
  }

  /** Inserts or replaces a client. */
  async save(client: Client): Promise<void> {
    await this.db.query(
      `INSERT INTO auth_client (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (client_id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, auth_method = EXCLUDED.auth_method,
         secret_hash = EXCLUDED.secret_hash, redirect_uris = EXCLUDED.redirect_uris, scope = EXCLUDED.scope, jwks = EXCLUDED.jwks,
         jwks_uri = EXCLUDED.jwks_uri, organization_id = EXCLUDED.organization_id, active = EXCLUDED.active, source = EXCLUDED.source`,
      [
        client.clientId,
        client.name,
        client.kind,
        client.authMethod,
        client.secretHash ?? null,
        client.redirectUris,
        client.scope,
        client.jwks ?? null,
        client.jwksUri ?? null,
        client.organizationId ?? null,
        client.active,
        client.source,
      ],
    );
    // A client deactivated, moved to another organization or given other scopes: its callers change.
    await accessChanged(this.db);
  }
}
