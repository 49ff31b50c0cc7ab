/**
 * Service notices' scheduled events (issue 20; server/notices/rounds.ts): a planned downtime's `reminder` before
 * its start and `completed` after its end are recorded by a periodic round that any number of server processes
 * run. `notice_occurrence` makes each happen once: a round inserts the row, keyed by the notice, the kind and the
 * moment it is due, in the same transaction as the outbox row of its topic event (server/store/subscription-outbox.ts),
 * and records the event only when the insert did; a second round, in this process or another, finds the key taken.
 * The moment is part of the key so that a downtime moved to a new window is reminded of again.
 */
export const up = `
CREATE TABLE notice_occurrence (
  notice_id   text        NOT NULL,
  kind        text        NOT NULL CHECK (kind IN ('reminder', 'completed')),
  due_at      timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (notice_id, kind, due_at)
);
`;
