import type { Communication, Resource } from 'fhir/r4';
import { mayPostServiceNotices } from '../access/notice-access.js';
import { isServiceNotice, NOTICE_KIND_SYSTEM, NOTICE_WINDOW_EXTENSION, readServiceNotice } from '../conformance/notice-vocabulary.js';
import { FhirError } from '../fhir/outcome.js';
import type { WriteChange, WriteRule } from '../rest/write-rules.js';

/**
 * Service notices (server/conformance/notice-vocabulary.ts) are the administrators' to post, change and remove
 * (server/access/notice-access.ts `mayPostServiceNotices`): anyone else writing a Communication that is, or would
 * become, a notice is refused with 403, so a contributor cannot put words on everyone's sign-in page. For a notice
 * written, the rule also stamps `sent` (when it was posted) if the administrator gave none, and refuses a window
 * that ends before it starts (422: the profile's invariant cannot compare the two). Everything else about its
 * shape is the profile's (REQUIRED_PROFILES requires it of every notice).
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
    checkWindow(change.resource as Communication);
    return withSent(change);
  },
};

function checkWindow(notice: Communication): void {
  const window = readServiceNotice(notice)?.window;
  if (!window?.start || !window.end || !(Date.parse(window.end) < Date.parse(window.start))) return;
  const at = notice.extension?.findIndex((extension) => extension.url === NOTICE_WINDOW_EXTENSION) ?? 0;
  throw new FhirError(422, {
    code: 'invariant',
    diagnostics: `the notice's window ends (${window.end}) before it starts (${window.start})`,
    expression: [`Communication.extension[${at}].value.ofType(Period).end`],
  });
}

/** The notice with `sent`: as given, else as first posted, else now. */
function withSent(change: WriteChange): Resource | void {
  const notice = change.resource as Communication;
  if (notice.sent !== undefined) return;
  const stamped: Communication = { ...notice, sent: (change.current as Communication | undefined)?.sent ?? new Date().toISOString() };
  return stamped;
}
