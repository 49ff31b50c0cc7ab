import { randomBytes } from 'node:crypto';
import type { Database } from './database.js';

/**
 * The secret named `name` (migration 015): made of 32 random bytes by the first process to ask, the same for every
 * process after; two processes asking at once agree on the first one stored.
 */
export async function serverSecret(db: Database, name: string): Promise<string> {
  await db.query('INSERT INTO server_secret (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, randomBytes(32).toString('base64url')]);
  const [row] = await db.query<{ value: string }>('SELECT value FROM server_secret WHERE name = $1', [name]);
  return row.value;
}
