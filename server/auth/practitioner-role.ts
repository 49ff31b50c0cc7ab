import type { PractitionerRole } from 'fhir/r4';
import type { Database } from '../store/database.js';

/** A user's current PractitionerRole (their Practitioner, organization and role codes), if it exists. */
export async function readPractitionerRole(db: Database, id: string | undefined): Promise<PractitionerRole | undefined> {
  if (!id) return undefined;
  const rows = await db.query<{ content: PractitionerRole }>(`SELECT content FROM resource WHERE resource_type = 'PractitionerRole' AND id = $1 AND NOT deleted`, [id]);
  return rows[0]?.content;
}
