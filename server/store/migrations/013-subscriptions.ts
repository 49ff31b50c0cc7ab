/**
 * Notifications that are never lost (issue 20; server/store/subscription-*.ts, run by server/delivery/).
 *
 * `subscription_event` is the outbox: one row per topic event, inserted in the transaction of the change that caused
 * it, so a rolled-back change leaves none and a committed one cannot be lost by a process dying after COMMIT. The
 * fan-out reads the rows not yet `fanned_out` in `seq` order and turns each into numbered notifications.
 *
 * `subscription_state` is the delivery engine's view of each Subscription: the checked SubscriptionSpec, its status,
 * `endpoint_key` (one queue per endpoint: a dead receiver delays only its own subscriptions), how many events were
 * numbered for it (`events_numbered`: the next number is one more, so numbers have no gaps), the error and since
 * when, the next heartbeat, and `starts_after`: the outbox's last sequence when it was created (older events are
 * not its business).
 *
 * `subscription_notification` is what is sent to one subscription: a handshake, a heartbeat, or one numbered event
 * (its focus and time copied, so the outbox can be purged independently). Pending while `outcome` is null; leased to
 * one process while it sends (`lease_holder`, `lease_until`: no transaction stays open over the network call, and a
 * lease that expires because its process died is claimed again); settled as delivered, dropped (access had ended,
 * or the subscription ended) or abandoned (the subscription went to error or off). Settled rows stay for `$events`
 * until the retention purge. `precedence` puts a pending handshake before anything else of its subscription.
 */
export const up = `
CREATE TABLE subscription_event (
  seq          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic        text        NOT NULL,
  focus_type   text        NOT NULL,
  focus_id     text        NOT NULL,
  patient      text,
  organization text,
  trigger      text        NOT NULL,
  occurred_at  timestamptz NOT NULL,
  fanned_out   boolean     NOT NULL DEFAULT false
);
CREATE INDEX subscription_event_pending ON subscription_event (seq) WHERE NOT fanned_out;

CREATE TABLE subscription_state (
  id              text        PRIMARY KEY,
  spec            jsonb       NOT NULL,
  topic           text        NOT NULL,
  channel         text        NOT NULL CHECK (channel IN ('rest-hook', 'websocket', 'email')),
  status          text        NOT NULL CHECK (status IN ('requested', 'active', 'error', 'off')),
  endpoint_key    text        NOT NULL,
  events_numbered bigint      NOT NULL DEFAULT 0,
  starts_after    bigint      NOT NULL,
  ends_at         timestamptz,
  error           text,
  error_since     timestamptz,
  heartbeat_due   timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscription_state_topic ON subscription_state (topic) WHERE status = 'active';
CREATE INDEX subscription_state_live ON subscription_state (endpoint_key) WHERE status IN ('requested', 'active');

CREATE TABLE subscription_notification (
  id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subscription_id text        NOT NULL REFERENCES subscription_state (id) ON DELETE CASCADE,
  kind            text        NOT NULL CHECK (kind IN ('handshake', 'heartbeat', 'event')),
  precedence      smallint    GENERATED ALWAYS AS (CASE kind WHEN 'handshake' THEN 0 ELSE 1 END) STORED,
  event_number    bigint,
  event_seq       bigint,
  focus_type      text,
  focus_id        text,
  occurred_at     timestamptz,
  due_at          timestamptz NOT NULL DEFAULT now(),
  attempts        integer     NOT NULL DEFAULT 0,
  failing_since   timestamptz,
  lease_holder    text,
  lease_until     timestamptz,
  last_failure    text,
  outcome         text        CHECK (outcome IN ('delivered', 'dropped', 'abandoned')),
  settled_at      timestamptz,
  CHECK ((kind = 'event') = (event_number IS NOT NULL)),
  CHECK ((outcome IS NULL) = (settled_at IS NULL)),
  UNIQUE (subscription_id, event_number)
);
-- The claim: each live subscription's first pending notification, in order.
CREATE INDEX subscription_notification_pending ON subscription_notification (subscription_id, precedence, id) WHERE outcome IS NULL;
-- The retention purge.
CREATE INDEX subscription_notification_settled ON subscription_notification (settled_at) WHERE outcome IS NOT NULL;
`;
