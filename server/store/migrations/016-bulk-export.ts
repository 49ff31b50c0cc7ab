/**
 * Bulk Data export (issue 21, docs/BULK.md): jobs and their files live in the database, so any server process
 * answers a job's status and serves its files, and any process can run it (server/export/engine/).
 *
 * - `bulk_job`: the kick-off's checked request (`spec`), its owner, the moment the export is as of
 *   (`transaction_time`; on PostgreSQL with the snapshot taken just after it, whose transactions then in progress
 *   must end before the job reads),
 *   the state, the resume point (`progress`, written in the same transaction as each file part), and the lease of
 *   the process running it (`lease_owner` until `lease_until`: a job of a dead process is taken over after it).
 * - `bulk_file`: a job's files, listed once `complete`; `bulk_file_part`: each file as a sequence of parts (one
 *   committed chunk each), so a download streams part by part with bounded memory.
 * - `bulk_job_patient`: the patients a consent-restricted export contained, for its AuditEvents.
 * - `bulk_job_provenance`: the Provenance rows an export with `includeAssociatedData=LatestProvenanceResources`
 *   already wrote, so one that is the latest of resources in several chunks is written once.
 * Everything of a job goes with it (ON DELETE CASCADE): cancel and expiry delete the job row.
 * - `resource_type_rid`: an export reads one type at a time in rid order (server/search/sql/export.ts); by the
 *   `rid` index alone each chunk would read past every other type's rows.
 */
export const up = `
CREATE INDEX resource_type_rid ON resource (resource_type, rid);

CREATE TABLE bulk_job (
  id               text        PRIMARY KEY,
  owner            jsonb       NOT NULL,
  spec             jsonb       NOT NULL,
  request          text        NOT NULL,
  transaction_time timestamptz NOT NULL,
  snapshot         text,
  state            text        NOT NULL CHECK (state IN ('accepted', 'running', 'complete', 'failed')),
  progress         jsonb       NOT NULL,
  issues           jsonb       NOT NULL DEFAULT '[]',
  lease_owner      text,
  lease_until      timestamptz,
  last_poll        timestamptz,
  created          timestamptz NOT NULL DEFAULT now(),
  completed        timestamptz,
  expires          timestamptz
);
CREATE INDEX bulk_job_runnable ON bulk_job (created) WHERE state IN ('accepted', 'running');
CREATE INDEX bulk_job_expires ON bulk_job (expires) WHERE expires IS NOT NULL;

CREATE TABLE bulk_file (
  job_id        text    NOT NULL REFERENCES bulk_job (id) ON DELETE CASCADE,
  number        integer NOT NULL,
  kind          text    NOT NULL CHECK (kind IN ('output', 'deleted', 'error')),
  resource_type text    NOT NULL,
  count         integer NOT NULL DEFAULT 0,
  bytes         bigint  NOT NULL DEFAULT 0,
  parts         integer NOT NULL DEFAULT 0,
  complete      boolean NOT NULL DEFAULT false,
  PRIMARY KEY (job_id, number)
);

CREATE TABLE bulk_file_part (
  job_id text    NOT NULL,
  number integer NOT NULL,
  part   integer NOT NULL,
  data   text    NOT NULL,
  PRIMARY KEY (job_id, number, part),
  FOREIGN KEY (job_id, number) REFERENCES bulk_file (job_id, number) ON DELETE CASCADE
);

CREATE TABLE bulk_job_patient (
  job_id  text NOT NULL REFERENCES bulk_job (id) ON DELETE CASCADE,
  patient text NOT NULL,
  PRIMARY KEY (job_id, patient)
);

CREATE TABLE bulk_job_provenance (
  job_id text   NOT NULL REFERENCES bulk_job (id) ON DELETE CASCADE,
  rid    bigint NOT NULL,
  PRIMARY KEY (job_id, rid)
);
`;
