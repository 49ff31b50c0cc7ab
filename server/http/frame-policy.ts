import type { Response } from 'express';

/**
 * Who may show our pages in a frame (APP_FRAME_ANCESTORS). An EHR shows a SMART app in an iframe, and the app's
 * authorization then runs in that same frame, so the sign-in pages must be framable by exactly the EHR origins the
 * app is: by no one else, and by no one at all when no EHR embeds the app. With EHR origins, our own origin is
 * allowed too (`'self'`): an app framed by an EHR on another site, where the browser denies it storage, shows the
 * sign-in pages in a frame of its own (docs/APP.md), and `frame-ancestors` checks every ancestor, the app included.
 */
export interface FramePolicy {
  /** `frame-ancestors` of the app (/app/): `'self'` and the EHR origins, or `'self'` when none are configured. */
  app: string;
  /** `frame-ancestors` of the authorization pages: `'self'` and the EHR origins, or `'none'`. */
  pages: string;
  /** X-Frame-Options, which cannot name several origins: sent only when it says what `frame-ancestors` says. */
  appFrameOptions?: string;
  pagesFrameOptions?: string;
}

export function framePolicy(ancestors: readonly string[]): FramePolicy {
  if (!ancestors.length) return { app: "'self'", pages: "'none'", appFrameOptions: 'SAMEORIGIN', pagesFrameOptions: 'DENY' };
  const origins = ["'self'", ...ancestors].join(' ');
  return { app: origins, pages: origins };
}

/**
 * Sets or removes X-Frame-Options to agree with the page's `frame-ancestors`: helmet sends SAMEORIGIN on every
 * page, which would forbid what an EHR origin is allowed (browsers honouring CSP ignore it, older ones do not).
 */
export function setFrameOptions(res: Response, value: string | undefined): void {
  if (value) res.setHeader('X-Frame-Options', value);
  else res.removeHeader('X-Frame-Options');
}
