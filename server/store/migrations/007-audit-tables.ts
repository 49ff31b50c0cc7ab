/**
 * The audit trail in tables of its own (docs/AUDIT.md, "Storage"). Under read load the trail outgrows the clinical
 * data by orders of magnitude; in the clinical tables it shared their indexes, statistics and vacuum with every
 * clinical search and write. Here:
 * - `audit_event`: one row per AuditEvent (they have one version only: append-only), the same columns as `resource`
 *   so that the search compiler reads it the same way; `rid` comes from the clinical tables' sequence, so a rid
 *   names one row in either set (includes and cursors mix them safely).
 * - `audit_string` … `audit_composite`: the AuditEvents' search index rows, the rows of `search_*` plus the event's
 *   `last_updated`, with only the indexes the trail's readers need (rid; patient/agent/entity/source references;
 *   type, subtype, outcome, action tokens; dates).
 * - all partitioned by month of `last_updated` (the time the server stored the event), so retention drops whole
 *   partitions (server/audit/purge.ts); a DEFAULT partition catches rows of a month whose partition is missing.
 *   `audit_add_partitions(from, to)` creates the months between; the server calls it at every start (and, since
 *   migration 010 replaced it, daily, moving a month's rows out of DEFAULT: server/store/audit-partitions.ts).
 * Existing AuditEvents move here with their rid and index rows; the chain (`audit_chain`, `audit_head`) is
 * unchanged, and as the content moves unchanged (JSONB), every link's content hash still holds.
 */
const INDEX_COLUMNS: Record<string, string[]> = {
  string: ['normalized', 'exact'],
  token: ['system', 'code', 'text', 'of_type'],
  date: ['low', 'high'],
  number: ['value', 'low', 'high'],
  quantity: ['value', 'low', 'high', 'system', 'code', 'unit'],
  reference: ['target_type', 'target_id', 'target_version', 'url', 'identifier_system', 'identifier_value'],
  uri: ['value'],
  composite: [
    'c1_system', 'c1_code', 'c2_system', 'c2_code', 'c2_value', 'c2_low', 'c2_high', 'c2_text', 'c2_date_low', 'c2_date_high',
    'c3_value', 'c3_low', 'c3_high',
  ],
};
const KINDS = Object.keys(INDEX_COLUMNS);
const TABLES = ['audit_event', ...KINDS.map((kind) => `audit_${kind}`)];

const tables = `
-- The server's role has no privilege on sequences (docs/DEPLOY.md: identity columns need none, and a partitioned
-- table cannot have one before PostgreSQL 17). An AuditEvent's rid comes from the clinical tables' identity sequence
-- through this function, which runs as the schema's owner, with the sequence named in full.
DO $$ BEGIN
  EXECUTE format(
    'CREATE FUNCTION audit_next_rid() RETURNS bigint LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS %L',
    format('SELECT nextval(%L::regclass)', quote_ident(current_schema()) || '.resource_rid_seq'));
END $$;

CREATE TABLE audit_event (
  rid           bigint      NOT NULL DEFAULT audit_next_rid(),
  resource_type text        NOT NULL DEFAULT 'AuditEvent' CHECK (resource_type = 'AuditEvent'),
  id            text        NOT NULL,
  version_id    integer     NOT NULL DEFAULT 1 CHECK (version_id = 1),
  last_updated  timestamptz NOT NULL,
  deleted       boolean     NOT NULL DEFAULT false CHECK (NOT deleted),
  content       jsonb       NOT NULL
) PARTITION BY RANGE (last_updated);
CREATE INDEX audit_event_id ON audit_event (id);
CREATE INDEX audit_event_rid ON audit_event (rid);

${KINDS.map((kind) => `CREATE TABLE audit_${kind} (LIKE search_${kind}, last_updated timestamptz NOT NULL) PARTITION BY RANGE (last_updated);
CREATE INDEX audit_${kind}_rid ON audit_${kind} (rid);`).join('\n')}
CREATE INDEX audit_token_value ON audit_token (param, code, system);
CREATE INDEX audit_reference_target ON audit_reference (target_id, target_type, param);
CREATE INDEX audit_date_low ON audit_date (param, low);
CREATE INDEX audit_date_high ON audit_date (param, high);

${TABLES.map((table) => `CREATE TABLE ${table}_default PARTITION OF ${table} DEFAULT;`).join('\n')}

-- Monthly partitions (UTC months) of every audit table for the months from \`first\` to \`last\`; those already there
-- are kept. A month whose rows already sit in the DEFAULT partition (the server ran past the months made ahead)
-- keeps them there: its partition cannot be created, and retention deletes those rows instead of dropping them.
CREATE FUNCTION audit_add_partitions(first timestamptz, last timestamptz) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  month timestamptz := date_trunc('month', first AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  next  timestamptz;
  tbl   text;
  made  integer := 0;
BEGIN
  WHILE month <= last LOOP
    next := (date_trunc('month', month AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
    FOREACH tbl IN ARRAY ARRAY[${TABLES.map((t) => `'${t}'`).join(', ')}] LOOP
      IF to_regclass(tbl || '_p' || to_char(month AT TIME ZONE 'UTC', 'YYYYMM')) IS NULL THEN
        BEGIN
          EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
            tbl || '_p' || to_char(month AT TIME ZONE 'UTC', 'YYYYMM'), tbl, month, next);
          made := made + 1;
        EXCEPTION WHEN check_violation OR duplicate_table OR unique_violation THEN
          NULL;
        END;
      END IF;
    END LOOP;
    month := next;
  END LOOP;
  RETURN made;
END $$;
`;

/** The AuditEvents stored so far, with their index rows, out of the clinical tables. */
const move = `
SELECT audit_add_partitions(
  coalesce((SELECT min(last_updated) FROM resource WHERE resource_type = 'AuditEvent'), now()), now() + interval '3 months');

INSERT INTO audit_event (rid, id, last_updated, content)
SELECT rid, id, last_updated, content FROM resource WHERE resource_type = 'AuditEvent' AND NOT deleted;

${KINDS.map((kind) => {
  const columns = ['rid', 'resource_type', 'param', ...INDEX_COLUMNS[kind]];
  return `INSERT INTO audit_${kind} (${columns.join(', ')}, last_updated)
SELECT ${columns.map((c) => `i.${c}`).join(', ')}, e.last_updated FROM search_${kind} i JOIN audit_event e ON e.rid = i.rid
WHERE i.resource_type = 'AuditEvent';
DELETE FROM search_${kind} WHERE resource_type = 'AuditEvent';`;
}).join('\n')}
DELETE FROM resource_link WHERE resource_type = 'AuditEvent';
DELETE FROM resource_version WHERE resource_type = 'AuditEvent';
DELETE FROM resource WHERE resource_type = 'AuditEvent';

ANALYZE audit_event, ${KINDS.map((kind) => `audit_${kind}`).join(', ')};
`;

export const up = tables + move;

/** The audit tables, as `audit_add_partitions` knows them: what the partition names start with. */
export const AUDIT_PARTITIONED_TABLES: readonly string[] = TABLES;
