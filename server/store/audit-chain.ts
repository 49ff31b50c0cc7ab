/**
 * The SQL of the audit chain (migration 004): appending a link as part of the statement that stores an
 * AuditEvent, so an event and its link cannot part.
 *
 * The link's hash needs the previous link's, so appends must take turns: the UPDATE of the single `audit_head`
 * row does that. It waits for any other transaction that appended, and then (READ COMMITTED re-evaluation of an
 * updated row) computes from the hash that transaction committed. The row stays locked until this transaction
 * ends; an AuditEvent is the last thing a request writes, so the wait is about one commit long.
 */
export const AUDIT_EVENT = 'AuditEvent';

/**
 * Common table expressions that link the AuditEvent `id` whose JSON text is the parameter `content` (the same
 * parameter the INSERT stores: the hash is taken of its JSONB form, which is what a later read returns).
 */
export function auditLinkCtes(id: string, content: string): string[] {
  const contentHash = `sha256(convert_to(${content}::jsonb::text, 'UTF8'))`;
  return [
    `audit_next AS (UPDATE audit_head SET seq = seq + 1, hash = sha256(hash || ${contentHash}) RETURNING seq, hash)`,
    `audit_link AS (INSERT INTO audit_chain (seq, event_id, content_hash, hash) SELECT seq, ${id}, ${contentHash}, hash FROM audit_next)`,
  ];
}

/** The hash an event's stored content has in its link, as SQL over a `resource`/`resource_version` row alias. */
export function storedContentHash(alias: string): string {
  return `sha256(convert_to(${alias}.content::text, 'UTF8'))`;
}
