/**
 * The audit trail's tamper evidence (server/audit). AuditEvents are ordinary resources (searchable through the
 * index like any other); each one stored also gets a link here, in commit order:
 *   content_hash = sha256(the event's stored JSONB as text)
 *   hash         = sha256(previous link's hash || content_hash)
 * so changing, removing or reordering a stored event breaks every later link. `audit_head` is the chain's end
 * (updated by every append, which is what serializes appends) and its anchor: where the chain starts after a
 * retention purge removed its oldest links (the last purged link's sequence and hash).
 */
export const up = `
CREATE TABLE audit_chain (
  seq          bigint PRIMARY KEY,
  event_id     text   NOT NULL UNIQUE,
  content_hash bytea  NOT NULL,
  hash         bytea  NOT NULL
);

CREATE TABLE audit_head (
  singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  seq         bigint  NOT NULL,
  hash        bytea   NOT NULL,
  anchor_seq  bigint  NOT NULL,
  anchor_hash bytea   NOT NULL
);

INSERT INTO audit_head (seq, hash, anchor_seq, anchor_hash)
  VALUES (0, decode(repeat('00', 32), 'hex'), 0, decode(repeat('00', 32), 'hex'));
`;
