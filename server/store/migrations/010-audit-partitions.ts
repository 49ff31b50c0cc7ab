import { AUDIT_PARTITIONED_TABLES } from './007-audit-tables.js';

/**
 * `audit_add_partitions` (migration 007) again, able to make a month whose rows already sit in the DEFAULT
 * partition: a server that ran past the months made ahead stored them there, and PostgreSQL refuses to attach a
 * partition while DEFAULT holds rows it would own. Each missing month of each table is now made as a table of its
 * own, the month's rows moved into it from DEFAULT, and attached, in the caller's transaction: the rows are never
 * in both places nor in neither, and their content (hence every chain link's hash) and rid move unchanged.
 *
 * Only when a month is missing:
 * - a role that may not create it (docs/DEPLOY.md's server role) is refused at once with insufficient_privilege,
 *   before any lock is taken, so its callers can say so instead of failing half way;
 * - the audit tables are locked against writes (EXCLUSIVE: reads go on) until the caller commits. An insert that
 *   began before would otherwise route a row of the month to DEFAULT after the move, and fail the attach (or, once
 *   attached, fail itself): writers wait, then route with the new partition. All in one statement, in the tables'
 *   order, as the purge does, so the writers' statements (which take every audit table at their start) queue behind.
 * Callers take turns on an advisory lock per schema: server starts, `npm run migrate` and the running servers'
 * daily rounds (server/store/audit-partitions.ts).
 *
 * And each chain link keeps its event's `last_updated`, the audit tables' partition key: `$verify` finds the event
 * of each link in its month's partition instead of probing every month's index by id (server/audit/verify.ts).
 * Outside the link's hash, like `event_id`: a locator, whose change shows as a broken link all the same.
 */
export const up = `
CREATE OR REPLACE FUNCTION audit_add_partitions(first timestamptz, last timestamptz) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  tables text[] := ARRAY[${AUDIT_PARTITIONED_TABLES.map((t) => `'${t}'`).join(', ')}];
  month  timestamptz := date_trunc('month', first AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  next   timestamptz;
  tbl    text;
  part   text;
  locked boolean := false;
  made   integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('ccp audit partitions ' || current_schema(), 0));
  WHILE month <= last LOOP
    next := (date_trunc('month', month AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
    FOREACH tbl IN ARRAY tables LOOP
      part := tbl || '_p' || to_char(month AT TIME ZONE 'UTC', 'YYYYMM');
      CONTINUE WHEN to_regclass(part) IS NOT NULL;
      IF NOT locked THEN
        IF NOT (has_schema_privilege(current_schema(), 'CREATE')
                AND pg_has_role((SELECT relowner FROM pg_class WHERE oid = tbl::regclass), 'USAGE')) THEN
          RAISE EXCEPTION 'this database role may not create the audit partition % (it needs to own the audit tables)', part
            USING ERRCODE = 'insufficient_privilege';
        END IF;
        EXECUTE 'LOCK TABLE ' || array_to_string(tables, ', ') || ' IN EXCLUSIVE MODE';
        locked := true;
      END IF;
      EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part, tbl);
      EXECUTE format('WITH moved AS (DELETE FROM %I WHERE last_updated >= %L AND last_updated < %L RETURNING *) INSERT INTO %I SELECT * FROM moved',
        tbl || '_default', month, next, part);
      EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', tbl, part, month, next);
      made := made + 1;
    END LOOP;
    month := next;
  END LOOP;
  RETURN made;
END $$;

ALTER TABLE audit_chain ADD COLUMN last_updated timestamptz;
UPDATE audit_chain c SET last_updated = e.last_updated FROM audit_event e WHERE e.id = c.event_id;
`;
