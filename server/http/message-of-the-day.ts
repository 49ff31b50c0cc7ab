import type { ServiceNotice } from '../conformance/notice-vocabulary.js';
import type { Logger } from '../log/logger.js';
import type { Database } from '../store/database.js';
import { currentNotices } from '../store/service-notices.js';
import { DatabaseUnavailable } from '../store/unavailable.js';

/**
 * The message of the day for the sign-in page: the service notices current now (server/store/service-notices.ts),
 * or none when they cannot be read. The page matters more than its message, above all during an outage, when the
 * database may be away: the page renders without notices rather than fail. An outage is the availability guard's
 * to log (server/store/availability.ts); any other failure is logged here.
 */
export async function messageOfTheDay(db: Database, logger: Logger, now: Date = new Date()): Promise<ServiceNotice[]> {
  try {
    return await currentNotices(db, now);
  } catch (error) {
    if (!(error instanceof DatabaseUnavailable)) logger.warn({ err: error }, 'message of the day: the service notices could not be read');
    return [];
  }
}
