import { describeNotice } from '../conformance/notice-vocabulary.js';
import type { Database } from '../store/database.js';
import { noticesById } from '../store/service-notices.js';
import { type FocusRef, TOPIC_BASE } from '../subscriptions/model.js';

const SERVICE_NOTICE = `${TOPIC_BASE}/service-notice`;

/**
 * The email channel's `details` (server/delivery/channels/email.ts `EmailOptions.details`) for service notices: a
 * notice is about the service, not about anyone's health, so its email may say which kind of notice it is, how
 * severe, its window and whether it is over, as the notice is when the email goes out (a reminder reads as the
 * downtime ahead, a completion as completed). Never its free text, and nothing for any other topic: those keep the
 * fixed, content-free words of email-message.ts.
 */
export function noticeEmailDetails(db: Database): (topic: string, focus: readonly FocusRef[]) => Promise<string[]> {
  return async (topic, focus) => {
    if (topic !== SERVICE_NOTICE) return [];
    const ids = focus.filter((ref) => ref.type === 'Communication').map((ref) => ref.id);
    return (await noticesById(db, ids)).map((notice) => describeNotice(notice));
  };
}
