import type { Database } from '../../store/database.js';
import { decoyPasswordHash, verifyPassword } from '../secrets.js';
import { userUsable } from '../users.js';

/** After this many wrong passwords in a row the account is locked for LOCK_MINUTES. */
export const MAX_FAILED_ATTEMPTS = 5;
export const LOCK_MINUTES = 15;

/**
 * A local account's sign-in: the user id, or undefined. Wrong password, unknown user, locked, deactivated: the
 * caller cannot tell which (one message, and the password is hashed in every case, so timing does not tell
 * either). Repeated failures lock the account, so passwords cannot be guessed online.
 */
export async function passwordSignIn(db: Database, username: string, password: string): Promise<string | undefined> {
  const rows = await db.query<{ id: string; password_hash: string | null; locked: boolean; usable: boolean }>(
    `SELECT u.id, u.password_hash, coalesce(u.locked_until > now(), false) AS locked, ${userUsable('u')} AS usable
     FROM auth_user u WHERE u.username = $1`,
    [username],
  );
  const user = rows[0];
  const matches = await verifyPassword(password, user?.password_hash ?? (await decoyPasswordHash()));
  if (!user || user.locked) return undefined;
  if (!matches) {
    await db.query(
      `UPDATE auth_user SET
         locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN now() + make_interval(mins => $3) ELSE locked_until END,
         failed_attempts = CASE WHEN failed_attempts + 1 >= $2 THEN 0 ELSE failed_attempts + 1 END
       WHERE id = $1`,
      [user.id, MAX_FAILED_ATTEMPTS, LOCK_MINUTES],
    );
    return undefined;
  }
  await db.query('UPDATE auth_user SET failed_attempts = 0, locked_until = NULL WHERE id = $1', [user.id]);
  return user.usable ? user.id : undefined;
}
