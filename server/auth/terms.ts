import type { Database } from '../store/database.js';

export interface Terms {
  version: number;
  text: string;
}

/** The Terms of Use in force: the newest published version (undefined only before any is published). */
export async function currentTerms(db: Database): Promise<Terms | undefined> {
  const rows = await db.query<Terms>('SELECT version, text FROM auth_terms ORDER BY version DESC LIMIT 1');
  return rows[0];
}

/**
 * Makes `text` the Terms of Use in force. A text that differs from the current one is a new version, which every
 * user must accept again before their next token; the same text changes nothing.
 */
export async function publishTerms(db: Database, text: string): Promise<Terms> {
  return db.transaction(async (tx) => {
    await tx.query('LOCK TABLE auth_terms IN EXCLUSIVE MODE');
    const current = await currentTerms(tx);
    if (current && current.text === text) return current;
    const version = (current?.version ?? 0) + 1;
    await tx.query('INSERT INTO auth_terms (version, text) VALUES ($1, $2)', [version, text]);
    return { version, text };
  });
}

export async function hasAccepted(db: Database, userId: string, version: number): Promise<boolean> {
  return (await db.query('SELECT 1 FROM auth_terms_acceptance WHERE user_id = $1 AND version = $2', [userId, version])).length > 0;
}

/** Records that the user accepted `version`, with the time (kept: it is evidence). */
export async function recordAcceptance(db: Database, userId: string, version: number): Promise<void> {
  await db.query('INSERT INTO auth_terms_acceptance (user_id, version) VALUES ($1, $2) ON CONFLICT DO NOTHING', [userId, version]);
}
