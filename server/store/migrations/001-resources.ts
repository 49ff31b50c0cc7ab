/**
 * Resources and their versions. `resource` holds the current version of every logical resource (or its
 * tombstone), so reads and later searches touch one row; `resource_version` holds every version ever written,
 * for vread and history. Both are keyed by (resource_type, id): the patient-compartment-friendly shape that
 * a sharded PostgreSQL can later distribute.
 */
export const up = `
CREATE TABLE resource (
  -- a compact surrogate key for the logical resource: what search index rows and keyset cursors refer to
  rid           bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
  resource_type text        NOT NULL,
  id            text        NOT NULL,
  version_id    integer     NOT NULL,
  last_updated  timestamptz NOT NULL,
  deleted       boolean     NOT NULL DEFAULT false,
  content       jsonb,
  PRIMARY KEY (resource_type, id),
  CHECK (deleted OR content IS NOT NULL)
);

CREATE TABLE resource_version (
  resource_type text        NOT NULL,
  id            text        NOT NULL,
  version_id    integer     NOT NULL,
  last_updated  timestamptz NOT NULL,
  -- the HTTP verb of the interaction that made this version; DELETE leaves a tombstone without content
  method        text        NOT NULL CHECK (method IN ('POST', 'PUT', 'PATCH', 'DELETE')),
  -- whether this version brought the resource into existence (first version, or first after a delete)
  created       boolean     NOT NULL,
  content       jsonb,
  -- insertion order across all resources: the stable order and keyset cursor of history
  seq           bigint      GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (resource_type, id, version_id),
  CHECK (method = 'DELETE' OR content IS NOT NULL)
);

CREATE UNIQUE INDEX resource_version_seq ON resource_version (seq);
CREATE INDEX resource_version_type_seq ON resource_version (resource_type, seq);
CREATE INDEX resource_version_last_updated ON resource_version (last_updated);
`;
