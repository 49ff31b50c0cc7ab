import type { AuditEvent, AuditEventEntity } from 'fhir/r4';
import type { Database } from '../../server/store/database.js';

/** Every stored AuditEvent, oldest first (read straight from the table: the trail as the database holds it). */
export async function storedEvents(db: Database): Promise<AuditEvent[]> {
  const rows = await db.query<{ content: AuditEvent }>(
    // The trail's own table (migration 007); rid comes from one sequence, so it orders the events as stored.
    'SELECT content FROM audit_event ORDER BY rid',
  );
  return rows.map((row) => row.content);
}

/** The events stored since `before` was taken (a count of storedEvents). */
export async function eventsSince(db: Database, before: number): Promise<AuditEvent[]> {
  return (await storedEvents(db)).slice(before);
}

export const subtypeOf = (event: AuditEvent): string | undefined => event.subtype?.[0]?.code;

/** The entities of an event with object role `role` (1 patient, 4 domain resource, 24 query), as their `what`. */
export function entitiesOf(event: AuditEvent, role: '1' | '4' | '24'): AuditEventEntity[] {
  return (event.entity ?? []).filter((entity) => entity.role?.code === role);
}

export const whats = (event: AuditEvent, role: '1' | '4'): string[] => entitiesOf(event, role).map((entity) => entity.what!.reference!).sort();

export function decodedQuery(event: AuditEvent): string | undefined {
  const query = entitiesOf(event, '24')[0]?.query;
  return query === undefined ? undefined : Buffer.from(query, 'base64').toString('utf8');
}

/**
 * A COMMIT that reached PostgreSQL before its client went away (a killed server, a cut connection) still completes
 * a moment later, so rows can land after the load has stopped. Waits until the counts `countsSql` reads (one row)
 * have stopped changing for three polls 100 ms apart, at most 5 s, so a test compares a settled database; the
 * assertions that follow decide whether it agrees.
 */
export async function untilSteady(db: Database, countsSql: string): Promise<void> {
  let last = '';
  let steady = 0;
  for (let i = 0; i < 50 && steady < 3; i++) {
    const now = JSON.stringify(await db.query(countsSql));
    steady = now === last ? steady + 1 : 0;
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
