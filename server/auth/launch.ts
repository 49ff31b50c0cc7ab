import type { Database } from '../store/database.js';
import { randomSecret, secretHash } from './secrets.js';
import type { LaunchContext } from './tokens.js';

/** An EHR launch is used within minutes of its creation: the EHR opens the app right away. */
export const LAUNCH_SECONDS = 600;

/**
 * Records what the EHR has open (patient, encounter, CarePlan) and returns the opaque `launch` value for the app
 * (stored as its hash, like every other secret).
 */
export async function createLaunch(db: Database, context: LaunchContext, createdBy: string): Promise<{ launch: string; expiresIn: number }> {
  const launch = randomSecret();
  await db.query('DELETE FROM auth_launch WHERE expires_at < now()');
  await db.query('INSERT INTO auth_launch (id, context, created_by, expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4))', [
    secretHash(launch),
    context,
    createdBy,
    LAUNCH_SECONDS,
  ]);
  return { launch, expiresIn: LAUNCH_SECONDS };
}

/** The context of an unexpired launch, or undefined. */
export async function resolveLaunch(db: Database, launch: string): Promise<LaunchContext | undefined> {
  const rows = await db.query<{ context: LaunchContext }>('SELECT context FROM auth_launch WHERE id = $1 AND expires_at > now()', [secretHash(launch)]);
  return rows[0]?.context;
}
