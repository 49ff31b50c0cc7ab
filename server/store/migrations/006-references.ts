/**
 * What each current resource refers to on this server (`Type/id`), for referential integrity: a delete asks it
 * whether anything still refers to its target (server/integrity). Written with the search index, by the same
 * statements. `param` is the element holding the reference, as a FHIRPath; rows of resources stored before this
 * table existed are filled here from their content, with the element left empty (found again when needed).
 * Records (AuditEvent, Provenance) have none: they never hold a delete back.
 */
const table = `
CREATE TABLE resource_link (
  rid           bigint NOT NULL,
  resource_type text   NOT NULL,
  param         text   NOT NULL,
  target_type   text   NOT NULL,
  target_id     text   NOT NULL
);
CREATE INDEX resource_link_target ON resource_link (target_id, target_type);
CREATE INDEX resource_link_rid ON resource_link (rid);
`;

/** The links of resources stored before the table existed: relative references found anywhere in their content. */
export const backfill = `
INSERT INTO resource_link (rid, resource_type, param, target_type, target_id)
SELECT DISTINCT r.rid, r.resource_type, '', m[1], m[2]
FROM resource r
CROSS JOIN LATERAL jsonb_path_query(r.content, 'strict $.**.reference') AS ref
CROSS JOIN LATERAL regexp_match(ref #>> '{}', '^([A-Z][A-Za-z]+)/([A-Za-z0-9.-]{1,64})(/_history/[A-Za-z0-9.-]{1,64})?$') AS m
WHERE NOT r.deleted AND r.resource_type NOT IN ('AuditEvent', 'Provenance') AND jsonb_typeof(ref) = 'string'
  AND NOT (m[1] = r.resource_type AND m[2] = r.id);
`;

export const up = table + backfill;
