import type { AuditEvent, Resource } from 'fhir/r4';
import { verifyChain } from '../../server/store/audit-verify.js';
import { restEvent } from '../../server/audit/rest-event.js';
import { UNRESTRICTED } from '../../server/access/caller.js';
import { extractIndexRows } from '../../server/search/index/extract.js';
import { parseSearch } from '../../server/search/query/parse.js';
import { R4_REGISTRY } from '../../server/search/registry.js';
import type { Database } from '../../server/store/database.js';
import { migrate } from '../../server/store/migrate.js';
import { MIGRATIONS } from '../../server/store/migrations/index.js';
import { openPglite } from '../../server/store/pglite.js';
import { insertIndexCtesOfMany } from '../../server/store/search-index-sql.js';
import { SqlResourceStore } from '../../server/store/sql-resource-store.js';
import { stamp } from '../../server/store/stamp.js';
import { Statement } from '../../server/search/sql/statement.js';
import { createEmptySchema, TEST_DATABASE_URL } from '../support/backends.js';

/**
 * Migration 007 moves the AuditEvents stored before it, as the store wrote them then (resource, resource_version,
 * search_* rows, a chain link each, in one statement), into the audit tables: the chain begun before it still
 * verifies, the events are read and searched as before, and nothing of them is left in the clinical tables.
 */
/** The chain's append as the store wrote it before migration 010 (links without their event's last_updated). */
const LINKS_BEFORE_010 = [
  `audit_prior AS (SELECT seq, hash FROM audit_head FOR UPDATE)`,
  `audit_input AS (SELECT row_number() OVER (ORDER BY ord) AS n, id, sha256(convert_to(content::text, 'UTF8')) AS content_hash FROM input)`,
  `audit_links (n, seq, hash, event_id, content_hash) AS (
     SELECT 0::bigint, seq, hash, NULL::text, NULL::bytea FROM audit_prior
     UNION ALL
     SELECT e.n, l.seq + 1, sha256(l.hash || e.content_hash), e.id, e.content_hash FROM audit_links l JOIN audit_input e ON e.n = l.n + 1)`,
  `audit_link AS (INSERT INTO audit_chain (seq, event_id, content_hash, hash) SELECT seq, event_id, content_hash, hash FROM audit_links WHERE n > 0)`,
  `audit_next AS (UPDATE audit_head SET seq = last.seq, hash = last.hash FROM (SELECT seq, hash FROM audit_links ORDER BY n DESC LIMIT 1) last)`,
];

async function storeTheOldWay(db: Database, events: Resource[]): Promise<void> {
  const sql = new Statement();
  const [ids, times, contents] = [events.map((e) => e.id), events.map((e) => e.meta!.lastUpdated), events.map((e) => JSON.stringify(e))].map(sql.param);
  await db.query(
    sql.with(
      [
        `input AS (SELECT 'AuditEvent'::text AS resource_type, * FROM unnest(${ids}::text[], ${times}::timestamptz[], ${contents}::jsonb[]) WITH ORDINALITY AS i(id, last_updated, content, ord))`,
        `inserted AS (INSERT INTO resource (resource_type, id, version_id, last_updated, content) SELECT resource_type, id, 1, last_updated, content FROM input RETURNING rid, resource_type, id)`,
        `version AS (INSERT INTO resource_version (resource_type, id, version_id, last_updated, method, created, content) SELECT resource_type, id, 1, last_updated, 'POST', true, content FROM input)`,
        `owner AS (SELECT input.ord, inserted.rid, inserted.resource_type FROM input JOIN inserted USING (resource_type, id))`,
        ...insertIndexCtesOfMany(events.map((e) => extractIndexRows(e, R4_REGISTRY)), 'owner', sql.param),
        ...LINKS_BEFORE_010,
      ],
      'SELECT 1',
      true,
    ),
    sql.params,
  );
}

const backends: [string, () => Promise<{ db: Database; close: () => Promise<void> }>][] = [
  ['pglite', async () => { const db = await openPglite(); return { db, close: () => db.close() }; }],
  ...(TEST_DATABASE_URL ? [['postgres', () => createEmptySchema(TEST_DATABASE_URL!)] as [string, () => Promise<{ db: Database; close: () => Promise<void> }>]] : []),
];

describe.each(backends)('migration 007 (the audit trail in its own tables), on %s', (_name, open) => {
  it('moves the AuditEvents stored before it; their chain still verifies and they are searched as before', async () => {
    const { db, close } = await open();
    try {
      await migrate(db, MIGRATIONS.filter((m) => m.version < 7));
      const store = new SqlResourceStore(db, (resource) => extractIndexRows(resource, R4_REGISTRY));
      const patient = await store.create({ resourceType: 'Patient' });
      const longAgo = new Date(Date.now() - 200 * 24 * 3600 * 1000);
      const events = [0, 1, 2, 3].map((n) =>
        stamp(
          restEvent({ interaction: { action: 'R', subtype: 'read', writes: 'none' }, caller: UNRESTRICTED, recorded: longAgo, status: n === 3 ? 404 : 200, target: `Patient/${patient.id}` }),
          `old-${n}`,
          1,
          new Date(longAgo.getTime() + n * 1000),
        ) as AuditEvent,
      );
      await storeTheOldWay(db, events.slice(0, 2));
      await storeTheOldWay(db, events.slice(2));
      const [linked] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_chain');
      expect(linked.n).toBe(4);

      await migrate(db);
      // Migration 010 gave each link its event's last_updated, by which $verify finds the event.
      const [dated] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_chain c JOIN audit_event e ON e.id = c.event_id AND e.last_updated = c.last_updated');
      expect(dated.n).toBe(4);
      const report = await verifyChain(db);
      expect(report.broken).toBeUndefined();
      expect(report.links).toBe(4);
      const [left] = await db.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM resource WHERE resource_type = 'AuditEvent') + (SELECT count(*) FROM resource_version WHERE resource_type = 'AuditEvent')
              + (SELECT count(*) FROM search_token WHERE resource_type = 'AuditEvent') + (SELECT count(*) FROM search_reference WHERE resource_type = 'AuditEvent')
              + (SELECT count(*) FROM search_date WHERE resource_type = 'AuditEvent') AS n`,
      );
      expect(Number(left.n)).toBe(0);
      // Stored 200 days ago: in that month's partition, made by the migration.
      const [month] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_event_p${longAgo.toISOString().slice(0, 7).replace('-', '')}`);
      expect(month.n).toBe(4);

      const read = await store.read('AuditEvent', 'old-1');
      expect(read.kind === 'found' && read.resource.id).toBe('old-1');
      const search = (query: Record<string, string[]>) => store.search(parseSearch(query, ['AuditEvent'], R4_REGISTRY, { defaultCount: 50, maxCount: 100 }));
      expect((await search({ entity: [`Patient/${patient.id}`] })).resources).toHaveLength(4);
      expect((await search({ outcome: ['4'] })).resources.map((r) => r.id)).toEqual(['old-3']);

      // And the chain goes on from there.
      await store.create(restEvent({ interaction: { action: 'R', subtype: 'read', writes: 'none' }, caller: UNRESTRICTED, recorded: new Date(), status: 200 }));
      expect((await verifyChain(db)).links).toBe(5);
    } finally {
      await close();
    }
  });
});
