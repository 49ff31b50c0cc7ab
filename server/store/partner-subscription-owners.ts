import type { Database } from './database.js';

/**
 * The organizations whose system-managed subscriptions (the partners' emails: server/subscriptions/partner-subscriptions.ts)
 * a reconcile looks at: every current Organization, and every organization that owns such a record now (one deleted
 * since, or whose records were made under another configuration). Ids only: each is read again under its lock.
 */
export async function partnerSubscriptionOwners(db: Database): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `SELECT id FROM resource WHERE resource_type = 'Organization' AND NOT deleted
     UNION
     SELECT spec->'owner'->>'organization' FROM subscription_state
      WHERE spec->'owner'->>'kind' = 'organization' AND spec->'owner'->>'organization' IS NOT NULL
     ORDER BY 1`,
  );
  return rows.map((row) => row.id);
}
