import { accessChanged } from './auth-changes.js';
import type { Database } from '../store/database.js';
import { randomSecret, secretHash } from './secrets.js';
import { userUsable } from './users.js';

/** How long a browser stays signed in: a working day. */
export const SESSION_SECONDS = 8 * 3600;

export interface Session {
  idHash: string;
  userId: string;
  authTime: Date;
  expiresAt: Date;
}

/** Signs a browser in as `userId`; returns the session id for its cookie (only its hash is stored). */
export async function startSession(db: Database, userId: string): Promise<{ id: string; session: Session }> {
  const id = randomSecret();
  const rows = await db.query<{ auth_time: Date; expires_at: Date }>(
    `INSERT INTO auth_session (id_hash, user_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3)) RETURNING auth_time, expires_at`,
    [secretHash(id), userId, SESSION_SECONDS],
  );
  return { id, session: { idHash: secretHash(id), userId, authTime: rows[0].auth_time, expiresAt: rows[0].expires_at } };
}

/** The live session a cookie names: not ended, not expired, and its user still may act. */
export async function findSession(db: Database, id: string | undefined): Promise<Session | undefined> {
  if (!id) return undefined;
  const rows = await db.query<{ id_hash: string; user_id: string; auth_time: Date; expires_at: Date }>(
    `SELECT s.id_hash, s.user_id, s.auth_time, s.expires_at FROM auth_session s JOIN auth_user u ON u.id = s.user_id
     WHERE s.id_hash = $1 AND s.ended_at IS NULL AND s.expires_at > now() AND ${userUsable('u')}`,
    [secretHash(id)],
  );
  if (!rows.length) return undefined;
  const row = rows[0];
  return { idHash: row.id_hash, userId: row.user_id, authTime: row.auth_time, expiresAt: row.expires_at };
}

/** Signs out: the session and every `online_access` token bound to it stop working. */
export async function endSession(db: Database, id: string): Promise<void> {
  await db.query('UPDATE auth_session SET ended_at = now() WHERE id_hash = $1 AND ended_at IS NULL', [secretHash(id)]);
  await accessChanged(db);
}
