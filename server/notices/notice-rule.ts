import type { Communication, Resource } from 'fhir/r4';
import { mayPostServiceNotices } from '../access/notice-access.js';
import { isServiceNotice, NOTICE_KIND_SYSTEM } from '../conformance/notice-vocabulary.js';
import { FhirError } from '../fhir/outcome.js';
import type { WriteChange, WriteRule } from '../rest/write-rules.js';

/**
 * Service notices (server/conformance/notice-vocabulary.ts) are the administrators' to post, change and remove
 * (server/access/notice-access.ts `mayPostServiceNotices`): anyone else writing a Communication that is, or would
 * become, a notice is refused with 403, so a contributor cannot put words on everyone's sign-in page. For a notice
 * written, the rule also stamps `sent` (when it was posted) if the administrator gave none. Everything else about
 * its shape is the profile's, which REQUIRED_PROFILES requires of every notice (a window ending before it starts
 * is R4's own per-1).
 */
export const serviceNoticeRule: WriteRule = {
  name: 'service-notices-by-administrators',
  resourceTypes: ['Communication'],
  async check(change) {
    const isNotice = isServiceNotice(change.resource);
    if (!isNotice && !isServiceNotice(change.current)) return;
    if (!mayPostServiceNotices(change.caller)) {
      throw new FhirError(403, {
        code: 'forbidden',
        diagnostics: `service notices are posted, changed and removed by administrators only: this Communication ${isServiceNotice(change.current) ? 'is' : 'would be'} a service notice (a category of ${NOTICE_KIND_SYSTEM})`,
        expression: ['Communication.category'],
      });
    }
    if (!isNotice) return;
    return withSent(change);
  },
};

/** The notice with `sent`: as given, else as first posted, else now. */
function withSent(change: WriteChange): Resource | void {
  const notice = change.resource as Communication;
  if (notice.sent !== undefined) return;
  const stamped: Communication = { ...notice, sent: (change.current as Communication | undefined)?.sent ?? new Date().toISOString() };
  return stamped;
}
