/**
 * The database cannot be reached, or cannot serve us right now (restarting, shutting down, out of connection
 * slots, closed). Nothing about the request was wrong: the same request can succeed later. Storage throws this
 * in place of the driver's error so that the layers above can answer "try again" without knowing the driver.
 */
export class DatabaseUnavailable extends Error {
  /** A short name of what failed (a socket error code, a SQLSTATE, the driver's message), for the outage log. */
  readonly reason: string;

  constructor(reason: string, options: { cause: unknown }) {
    super(`the database is unavailable (${reason})`, options);
    this.name = 'DatabaseUnavailable';
    this.reason = reason;
  }
}

/** Socket errors of a connection that could not be made or was lost. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * SQLSTATEs of a server that is there but cannot serve: class 08 (connection exception) is matched by prefix.
 * 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up or shutting down),
 * 53300 too_many_connections.
 */
const SERVER_STATES = new Set(['57P01', '57P02', '57P03', '53300']);

/**
 * What `pg`, `pg-pool` and PGlite say when the connection is gone, a connection could not be had in time, or the
 * database has been closed (the server is stopping). They carry no code, so their messages are matched exactly.
 */
const DRIVER_MESSAGES = [
  /^Connection terminated( unexpectedly| due to connection timeout)?$/,
  /^timeout exceeded when trying to connect$/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
  /^Cannot use a pool after calling end on the pool$/,
  /^PGlite is clos(ed|ing)$/,
];

/** The error as a DatabaseUnavailable when it is one of the failures above, or undefined when it is not. */
export function asUnavailable(error: unknown): DatabaseUnavailable | undefined {
  if (error instanceof DatabaseUnavailable) return error;
  const reason = reasonOf(error, 0);
  return reason === undefined ? undefined : new DatabaseUnavailable(reason, { cause: error });
}

function reasonOf(error: unknown, depth: number): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 3) return undefined;
  const { code, message, errors } = error as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code)) return code;
    if (/^[0-9A-Z]{5}$/.test(code) && (code.startsWith('08') || SERVER_STATES.has(code))) return `SQLSTATE ${code}`;
  }
  if (typeof message === 'string' && DRIVER_MESSAGES.some((pattern) => pattern.test(message))) return message;
  // Node's happy-eyeballs connect (several addresses of one host name) fails with an AggregateError of each attempt.
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const reason = reasonOf(inner, depth + 1);
      if (reason !== undefined) return reason;
    }
  }
  return undefined;
}
