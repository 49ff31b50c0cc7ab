/**
 * Where the delivery engines are woken (server/delivery/outbox-listener.ts): NOTIFY on this channel with the schema
 * as payload, sent in the transaction that recorded a topic event or asked for a handshake, so that engines wake at
 * its COMMIT (NOTIFY is transactional: a rollback wakes nobody), in every process on the schema.
 */
export const OUTBOX_CHANNEL = 'ccp_subscription_event';

/** The SQL expression that wakes them. */
export const WAKE_ENGINES = `pg_notify('${OUTBOX_CHANNEL}', current_schema())`;
