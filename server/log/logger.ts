import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Callers log ids, statuses and timings only: never resource bodies, names or
 * identifiers (no personal health information in logs). The redact list is a second line of defence.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'ccp-exchange' },
    redact: { paths: ['body', 'resource', 'req.headers.authorization', 'req.headers.cookie'], remove: true },
  });
}
