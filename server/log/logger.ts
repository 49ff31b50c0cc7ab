import { pino, type DestinationStream, type Logger } from 'pino';
import { build as prettyStream } from 'pino-pretty';

export type { Logger };

/** `json`: one JSON object a line, for log collectors; `pretty`: one readable line per entry, for a person at a terminal. */
export type LogFormat = 'json' | 'pretty';

/** LOG_FORMAT when it is set; otherwise pretty on a terminal and JSON everywhere else (pipes, files, containers). */
export function logFormatFor(configured: LogFormat | undefined, stdoutIsTerminal: boolean): LogFormat {
  return configured ?? (stdoutIsTerminal ? 'pretty' : 'json');
}

/**
 * Structured logs. Callers log ids, statuses and timings only: never resource bodies, names or identifiers
 * (no personal health information in logs). The redact list is a second line of defence, applied before either
 * format is written. `pretty` formats in this process, synchronously (no worker thread), to stdout with colours
 * where the terminal supports them (NO_COLOR turns them off), or plainly to `destination`.
 */
export function createLogger(level: string, format: LogFormat = 'json', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'ccp-exchange' },
    redact: { paths: ['body', 'resource', 'req.headers.authorization', 'req.headers.cookie'], remove: true },
  };
  if (format === 'json') return destination ? pino(options, destination) : pino(options);
  return pino(
    options,
    prettyStream({
      sync: true,
      singleLine: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service',
      ...(destination ? { destination, colorize: false } : {}),
    }),
  );
}
