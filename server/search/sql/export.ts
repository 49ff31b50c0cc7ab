import type { AccessAlternative, ConsentGate, Filter } from '../query/model.js';
import type { CompartmentScope } from './access.js';
import { where } from './compile.js';
import { populationCondition } from './consent.js';
import { Statement } from './statement.js';
import { CLINICAL_TABLES, tablesFor } from './tables.js';

/**
 * One chunk of a Bulk Data export of one type (docs/BULK.md), as of the job's transaction time T:
 * the search's conditions (server/search/sql/compile.ts `where`: `_typeFilter` queries, the caller's access and
 * consent, the compartment of the exported patients), keyset on rid; for a partner, the rows of patients consent
 * does not hide from its searches are held to the patients it may see too (consent.ts `populationCondition`).
 */
export interface ExportChunk {
  type: string;
  /** `_typeFilter`: a row meets every filter of at least one query; none: every row of the type. */
  anyOf?: Filter[][];
  access?: Record<string, AccessAlternative[]>;
  consent?: ConsentGate;
  /** Patient and group level: the Patient compartment of these patients (`id` absent: of any patient). */
  compartment?: CompartmentScope;
  /** `_since`: only resources whose version as of T was written after it. */
  since?: Date;
  transactionTime: Date;
  /** The keyset position: rows after this rid. */
  afterRid: string;
  limit: number;
}

/**
 * The keyset order of one type's rows in `resource`: by the index on (resource_type, rid), so a chunk reads its own
 * type's rows only. Ordered by `r.rid` with `r.resource_type = $type`, the planner takes the type for a constant,
 * drops it from the order, and walks the `rid` index instead, reading and dropping every other type's rows (a
 * Patient chunk read 11,661 rows to return 1,000 at 1M resources): it costs the (resource_type, rid) index's heap
 * reads as random (the type column's correlation is low) and the rid index's as sequential, and assumes the type's
 * rows spread evenly. With the type compared as an array (`= ANY('{Patient}')`, no constant to the planner) only
 * the (resource_type, rid) index gives this order without a sort (docs/PERFORMANCE.md, "Bulk export").
 */
const TYPE_KEYSET_ORDER = 'r.resource_type, r.rid';

/**
 * Rows `rid` and `bytes`, in rid order: the length of the row's NDJSON line, its version as of T (the current one
 * when written by T, else the newest older version) as text, or NULL when there is none to export (created after T,
 * deleted by T, or, with `_since`, unchanged since). The text itself is read at the download
 * (`exportContentStatement`): a chunk records rids, so an exported byte leaves the database once. NULL rows still
 * advance the keyset: the caller continues after the last rid returned, and the type is done when fewer than `limit`
 * come.
 *
 * The row is selected by its current index (a resource changed after T is matched by its newest version's values,
 * docs/BULK.md, "Deviations"): the index keeps no past versions.
 */
export function exportChunkStatement(chunk: ExportChunk): { sql: string; params: unknown[] } {
  const sql = new Statement();
  const at = `${sql.param(chunk.transactionTime)}::timestamptz`;
  const since = chunk.since ? `${sql.param(chunk.since)}::timestamptz` : undefined;
  const query = { resourceTypes: [chunk.type], filters: [], anyOf: chunk.anyOf, access: chunk.access, consent: chunk.consent, compartment: chunk.compartment };
  const clinical = tablesFor(chunk.type) === CLINICAL_TABLES;
  const built = where(query, sql, clinical ? `(NOT r.deleted OR r.last_updated > ${at})` : `r.last_updated <= ${at}`, { typeAsArray: clinical });
  const conditions = [...built.conditions, `r.rid > ${sql.param(chunk.afterRid)}::bigint`];
  const population = chunk.consent && populationCondition(chunk.consent, sql, 'r', chunk.type);
  if (population) conditions.push(population);
  if (since) conditions.push(`r.last_updated > ${since}`);
  const text = `SELECT r.rid::text AS rid, octet_length(${contentAsOf(clinical, at, since)}) AS bytes FROM ${built.tables.resource} r
    WHERE ${conditions.join('\n      AND ')}
    ORDER BY ${clinical ? TYPE_KEYSET_ORDER : 'r.rid'}
    LIMIT ${sql.param(chunk.limit)}`;
  return { sql: text, params: sql.params };
}

/**
 * The JSON text of row `r` as of `at`: its current content when written by then, else its newest version written
 * by then (and after `since`, when given), else NULL. AuditEvents are never changed nor deleted (only dropped with
 * their month): the current row is the version.
 */
function contentAsOf(clinical: boolean, at: string, since?: string): string {
  if (!clinical) return 'r.content::text';
  return `CASE WHEN r.last_updated <= ${at} THEN r.content::text ELSE (
        SELECT v.content::text FROM resource_version v
        WHERE v.resource_type = r.resource_type AND v.id = r.id AND v.last_updated <= ${at}${since ? ` AND v.last_updated > ${since}` : ''}
        ORDER BY v.version_id DESC LIMIT 1) END`;
}

/**
 * The text of exported rows for a download, as of the job's transaction time: the rows `rids` of `type` (a part of
 * a file, recorded by a chunk) in rid order, each the version as of T the chunk measured. `joined`: one row, the
 * lines joined by newlines (`text`, NULL when none is left), so a part crosses as one value; else a row per
 * resource (`text` each), for shaping one by one.
 */
export function exportContentStatement(part: { type: string; rids: readonly string[]; transactionTime: Date; joined: boolean }): { sql: string; params: unknown[] } {
  const sql = new Statement();
  const at = `${sql.param(part.transactionTime)}::timestamptz`;
  const clinical = tablesFor(part.type) === CLINICAL_TABLES;
  const content = contentAsOf(clinical, at);
  const rows = `SELECT ${content} AS text FROM ${tablesFor(part.type).resource} r WHERE r.rid = ANY(${sql.param(part.rids)}::bigint[]) ORDER BY r.rid`;
  // Joined from the ordered rows (PostgreSQL aggregates a plain subquery's rows in their order), not with
  // `string_agg(… ORDER BY r.rid)`: that sorts the part's text again (~9 MB, past work_mem) where the rid index
  // already gives the order (docs/PERFORMANCE.md, "Bulk export").
  const text = part.joined ? `SELECT string_agg(x.text, E'\n') AS text FROM (${rows}) x` : rows;
  return { sql: text, params: sql.params };
}

/**
 * One chunk of a `_since` export's deletes of one type: resources whose newest version as of T is a DELETE written
 * after `since`, keyset on rid (`id` NULL for a row scanned but not deleted, so the keyset still advances). A
 * deleted row has no index left to decide access or consent on: the engine asks this only of types the caller
 * reads unrestricted.
 */
export function deletedChunkStatement(chunk: {
  type: string;
  since: Date;
  transactionTime: Date;
  afterRid: string;
  limit: number;
  /** Only these ids (a patient-level export's deleted Patients). */
  ids?: readonly string[];
}): { sql: string; params: unknown[] } {
  const sql = new Statement();
  const at = `${sql.param(chunk.transactionTime)}::timestamptz`;
  const since = `${sql.param(chunk.since)}::timestamptz`;
  const text = `SELECT r.rid::text AS rid, CASE WHEN (
        SELECT v.method FROM resource_version v
        WHERE v.resource_type = r.resource_type AND v.id = r.id AND v.last_updated <= ${at} AND v.last_updated > ${since}
        ORDER BY v.version_id DESC LIMIT 1) = 'DELETE' THEN r.id END AS id
    FROM resource r
    WHERE r.resource_type = ANY(${sql.param([chunk.type])}::text[]) AND r.rid > ${sql.param(chunk.afterRid)}::bigint AND r.last_updated > ${since}${
      chunk.ids ? ` AND r.id = ANY(${sql.param(chunk.ids)}::text[])` : ''}
    ORDER BY ${TYPE_KEYSET_ORDER}
    LIMIT ${sql.param(chunk.limit)}`;
  return { sql: text, params: sql.params };
}

/**
 * `includeAssociatedData=LatestProvenanceResources` (Bulk Data 2.0.0): the most recent Provenance (by when it was
 * written, as of T) naming each of `targets` (rids of exported rows) in `Provenance.target`, if the caller may see
 * it (`access`, `consent`: the search's conditions for Provenance). A target whose latest Provenance is hidden gets
 * none: an older one would not be the latest. Rows `rid` and `bytes` (its line's length), as `exportChunkStatement`.
 */
export function latestProvenanceStatement(query: {
  targets: readonly string[];
  access?: Record<string, AccessAlternative[]>;
  consent?: ConsentGate;
  transactionTime: Date;
}): { sql: string; params: unknown[] } {
  const sql = new Statement();
  const at = `${sql.param(query.transactionTime)}::timestamptz`;
  const built = where({ resourceTypes: ['Provenance'], filters: [], access: query.access, consent: query.consent }, sql);
  const latest = `SELECT DISTINCT ON (t.rid) i.rid FROM resource t
      JOIN search_reference i ON i.target_type = t.resource_type AND i.target_id = t.id AND i.resource_type = 'Provenance' AND i.param = 'target'
      JOIN resource p ON p.rid = i.rid AND p.last_updated <= ${at} AND NOT p.deleted
      WHERE t.rid = ANY(${sql.param(query.targets)}::bigint[])
      ORDER BY t.rid, p.last_updated DESC, p.rid DESC`;
  const text = `SELECT r.rid::text AS rid, octet_length(r.content::text) AS bytes FROM resource r
    WHERE ${[...built.conditions, `r.rid IN (${latest})`].join('\n      AND ')}
    ORDER BY r.rid`;
  return { sql: text, params: sql.params };
}
