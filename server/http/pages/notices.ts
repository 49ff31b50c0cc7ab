import { NOTICE_KIND_TITLES, NOTICE_SEVERITY_TITLES, noticeTime as when, type ServiceNotice } from '../../conformance/notice-vocabulary.js';
import { html, type Html } from './html.js';

/**
 * The message of the day: the current service notices (server/store/service-notices.ts `currentNotices`), each
 * with its kind, severity, window and text, every value escaped by `html`. Classes only, for the pages' one
 * stylesheet (their Content-Security-Policy allows no inline style or script). Nothing at all when none is current.
 */
export function noticesSection(notices: readonly ServiceNotice[]): Html | '' {
  if (!notices.length) return '';
  return html`<section class="notices" aria-label="Service notices">
${notices.map((notice) => noticeBlock(notice))}
</section>`;
}

function noticeBlock(notice: ServiceNotice): Html {
  const severity = notice.severity ?? 'information';
  return html`<div class="notice notice-${severity}">
<p class="notice-title"><strong>${NOTICE_KIND_TITLES[notice.kind]}</strong> <span class="notice-severity">${NOTICE_SEVERITY_TITLES[severity]}</span></p>
${windowLine(notice.window)}${notice.text ? html`<p class="notice-text">${notice.text}</p>` : ''}
</div>
`;
}

function windowLine(window: ServiceNotice['window']): Html | '' {
  if (!window?.start && !window?.end) return '';
  if (window.start && window.end) return html`<p class="notice-window">From ${when(window.start)} to ${when(window.end)}</p>`;
  return window.start ? html`<p class="notice-window">Since ${when(window.start)}</p>` : html`<p class="notice-window">Until ${when(window.end!)}</p>`;
}
