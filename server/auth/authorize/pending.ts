import type { Database } from '../../store/database.js';
import { randomSecret, secretHash } from '../secrets.js';
import type { AuthorizationRequest } from './authorization-request.js';

/** A user has a quarter of an hour to sign in, accept, choose and approve. */
export const PENDING_SECONDS = 900;

/** What the user has done so far for one authorization request. */
export interface Progress {
  userId?: string;
  /** The browser session the user signed in with (its hash). */
  sessionHash?: string;
  authTime?: string;
  /** The patient chosen in the picker (standalone launch). */
  patient?: string;
  approved?: boolean;
  /** A sign-in at an external identity provider under way. */
  federation?: { provider: string; state: string; codeVerifier: string; nonce: string };
}

/** An authorization request between `/auth/authorize` and the code, kept in the database under its id's hash. */
export interface PendingAuthorization {
  idHash: string;
  request: AuthorizationRequest;
  progress: Progress;
}

/** Keeps a checked request; the returned id is what the sign-in pages carry (the only copy). */
export async function savePending(db: Database, request: AuthorizationRequest, progress: Progress): Promise<{ id: string; pending: PendingAuthorization }> {
  const id = randomSecret();
  const pending: PendingAuthorization = { idHash: secretHash(id), request, progress };
  await db.query('DELETE FROM auth_request WHERE expires_at < now()');
  await db.query('INSERT INTO auth_request (id_hash, params, state, expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4))', [
    pending.idHash,
    request,
    progress,
    PENDING_SECONDS,
  ]);
  return { id, pending };
}

export async function loadPending(db: Database, id: string): Promise<PendingAuthorization | undefined> {
  return loadWhere(db, 'id_hash = $1', secretHash(id));
}

async function loadWhere(db: Database, condition: string, value: string): Promise<PendingAuthorization | undefined> {
  const rows = await db.query<{ id_hash: string; params: AuthorizationRequest; state: Progress }>(
    `SELECT id_hash, params, state FROM auth_request WHERE ${condition} AND expires_at > now()`,
    [value],
  );
  return rows.length ? { idHash: rows[0].id_hash, request: rows[0].params, progress: rows[0].state } : undefined;
}

export async function saveProgress(db: Database, pending: PendingAuthorization): Promise<void> {
  await db.query('UPDATE auth_request SET state = $2 WHERE id_hash = $1', [pending.idHash, pending.progress]);
}

/** The request is answered (code or error): it cannot be used again. */
export async function dropPending(db: Database, pending: PendingAuthorization): Promise<void> {
  await db.query('DELETE FROM auth_request WHERE id_hash = $1', [pending.idHash]);
}
