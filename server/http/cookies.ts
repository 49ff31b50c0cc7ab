import type { Request, Response } from 'express';

/** The browser's sign-in session, sent only to the authorization server's own pages. */
export const SESSION_COOKIE = { name: 'ccp_session', path: '/auth' };
/** Which pending authorization a browser took to an external identity provider, for its return. */
export const FEDERATION_COOKIE = { name: 'ccp_federation', path: '/auth/federation' };

/** A cookie value from the request (no cookie-parser: one header, read where needed). */
export function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) return decodeURIComponent(part.slice(separator + 1).trim());
  }
  return undefined;
}

/**
 * Always Secure (browsers accept Secure cookies from http://localhost too), HttpOnly (no script reads them) and
 * SameSite=Lax: sent when an app or an identity provider sends the browser here, never with cross-site posts.
 */
export function setCookie(res: Response, cookie: { name: string; path: string }, value: string, maxAgeSeconds: number): void {
  res.cookie(cookie.name, value, { path: cookie.path, maxAge: maxAgeSeconds * 1000, httpOnly: true, secure: true, sameSite: 'lax' });
}

export function clearCookie(res: Response, cookie: { name: string; path: string }): void {
  res.clearCookie(cookie.name, { path: cookie.path, httpOnly: true, secure: true, sameSite: 'lax' });
}
