/**
 * The audit trail's index rows queued (docs/AUDIT.md, "Storage"). An AuditEvent is stored with its chain link in the
 * statement that records it, before the request is answered; its search index rows (eight to twelve rows over as many
 * partitioned tables for a read's event) are queued here as one JSON row in that same statement, and moved into the
 * index tables in batches: by the server every second, and by any search that reads those tables, first
 * (server/store/audit-index-queue.ts). A search therefore finds every event committed before it began, while a read
 * pays for two small rows instead of a dozen. Every event stored so far is already indexed: the queue starts empty.
 */
export const up = `
CREATE TABLE audit_index_queue (
  rid          bigint      PRIMARY KEY,
  last_updated timestamptz NOT NULL,
  rows         jsonb       NOT NULL
);
`;
