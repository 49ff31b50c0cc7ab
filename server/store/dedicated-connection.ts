import pg from 'pg';
import type { DedicatedConnection } from './database.js';

/**
 * One connection of its own to a PostgreSQL server, outside the pool: a LISTEN lives as long as its session, so it
 * cannot be on a pooled connection that the next request borrows. Its loss (the server restarting, the network) is
 * reported once through `onLost`; whoever opened it decides whether to connect anew.
 */
export async function openDedicated(connectionString: string, closed: () => void): Promise<DedicatedConnection> {
  const client = new pg.Client({ connectionString, keepAlive: true, keepAliveInitialDelayMillis: 10_000, connectionTimeoutMillis: 5000 });
  const lostListeners: (() => void)[] = [];
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    closed();
    for (const listener of lostListeners) listener();
  };
  // An error on an idle client is an 'error' event: unhandled, it would end the process.
  client.on('error', () => {
    end();
    client.end().catch(() => undefined);
  });
  client.on('end', end);
  try {
    await client.connect();
  } catch (error) {
    // Never opened: nothing to report lost.
    ended = true;
    throw error;
  }
  return {
    inProcess: false,
    async query<Row>(sql: string, params: unknown[] = []) {
      return (await client.query(sql, params)).rows as Row[];
    },
    onNotification(listener) {
      client.on('notification', (message) => listener(message.channel, message.payload ?? '', message.processId));
    },
    onLost(listener) {
      if (ended) listener();
      else lostListeners.push(listener);
    },
    async close() {
      end();
      await client.end().catch(() => undefined);
    },
  };
}
