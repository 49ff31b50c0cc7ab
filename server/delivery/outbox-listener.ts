import type { Logger } from 'pino';
import type { Database, DedicatedConnection } from '../store/database.js';
import { OUTBOX_CHANNEL } from '../store/subscription-outbox.js';

/** A listener that could not connect, or lost its connection, tries again after this long (polling covers meanwhile). */
const RETRY_MS = 1000;

export interface OutboxListener {
  close(): Promise<void>;
}

/**
 * Calls `heard` when a transaction that recorded a topic event commits (its NOTIFY, on a connection of our own:
 * server/store/subscription-outbox.ts), in this process or another one on the same schema. On PGlite the one
 * session listens, and hears its own commits. `heard` is also called once listening (re)starts, since events
 * may have been recorded unheard before. Not hearing is never fatal: the engine polls as well.
 */
export function listenToOutbox(db: Database, heard: () => void, logger?: Logger): OutboxListener {
  let connection: DedicatedConnection | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let warned = false;
  let connecting: Promise<void> | undefined;

  const later = () => {
    if (closed) return;
    retry = setTimeout(() => void (connecting = connect()), RETRY_MS);
    retry.unref();
  };

  const connect = async () => {
    let opened: DedicatedConnection | undefined;
    try {
      opened = await db.dedicatedConnection();
      const current = opened;
      if (closed) return void (await current.close());
      let lost = false;
      current.onLost(() => {
        lost = true;
        if (connection !== current) return;
        connection = undefined;
        if (closed) return;
        heard();
        later();
      });
      const [{ schema }] = await current.query<{ schema: string }>('SELECT current_schema() AS schema');
      // Outside the notifying statement: PGlite calls listeners before that statement has returned.
      current.onNotification((channel, payload) => channel === OUTBOX_CHANNEL && payload === schema && void setImmediate(heard));
      await current.query(`LISTEN ${OUTBOX_CHANNEL}`);
      if (lost) throw new Error('the connection was lost while it began to listen');
      if (closed) return void (await current.close());
      connection = current;
      warned = false;
      heard();
    } catch (error) {
      if (!warned && !closed) logger?.warn({ reason: error instanceof Error ? error.message : String(error) }, 'delivery: not listening for new events; polling meanwhile');
      warned = true;
      await opened?.close().catch(() => undefined);
      later();
    }
  };

  connecting = connect();
  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      await connecting;
      await connection?.close();
      connection = undefined;
    },
  };
}
