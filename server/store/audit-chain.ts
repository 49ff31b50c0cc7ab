/**
 * The SQL of the audit chain (migration 004): appending a link as part of the statement that stores an
 * AuditEvent, so an event and its link cannot part.
 *
 * The link's hash needs the previous link's, so appends must take turns on the single `audit_head` row: locked,
 * then moved to the new end, and locked until the transaction ends. An AuditEvent is the last thing a request
 * writes, so the wait is about one commit long.
 */
export const AUDIT_EVENT = 'AuditEvent';

/**
 * Common table expressions that link every AuditEvent of the relation `events` (columns `ord`, `id`,
 * `last_updated`, `content` as stored) in `ord` order, in the statement that stores them: the head is locked (and, if another transaction
 * appended meanwhile, read as that one committed it: READ COMMITTED re-reads a row it waited for), the links are
 * computed from it one after the other, and the head moves to the last. A group of events takes one turn.
 * The statement must be `WITH RECURSIVE`.
 */
export function auditLinkCtes(events: string): string[] {
  return [
    `audit_prior AS (SELECT seq, hash FROM audit_head FOR UPDATE)`,
    `audit_input AS (SELECT row_number() OVER (ORDER BY ord) AS n, id, last_updated, sha256(convert_to(content::text, 'UTF8')) AS content_hash FROM ${events})`,
    `audit_links (n, seq, hash, event_id, last_updated, content_hash) AS (
       SELECT 0::bigint, seq, hash, NULL::text, NULL::timestamptz, NULL::bytea FROM audit_prior
       UNION ALL
       SELECT e.n, l.seq + 1, sha256(l.hash || e.content_hash), e.id, e.last_updated, e.content_hash FROM audit_links l JOIN audit_input e ON e.n = l.n + 1)`,
    `audit_link AS (INSERT INTO audit_chain (seq, event_id, last_updated, content_hash, hash)
       SELECT seq, event_id, last_updated, content_hash, hash FROM audit_links WHERE n > 0)`,
    `audit_next AS (UPDATE audit_head SET seq = last.seq, hash = last.hash FROM (SELECT seq, hash FROM audit_links ORDER BY n DESC LIMIT 1) last)`,
  ];
}

/** The hash an event's stored content has in its link, as SQL over a `resource`/`resource_version` row alias. */
export function storedContentHash(alias: string): string {
  return `sha256(convert_to(${alias}.content::text, 'UTF8'))`;
}
