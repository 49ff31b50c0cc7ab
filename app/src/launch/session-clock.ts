/**
 * When the sign-in session ends, and when to warn. Pure: times are epoch seconds, handed in.
 *
 * The app asks for `online_access`: its refresh token works as long as the server's sign-in session, which lasts
 * 8 hours from the sign-in (server/auth/sessions.ts, README "Access tokens"). Access tokens last an hour and
 * fhirclient renews them with the refresh token before a request when one is near its end, so the only end the
 * user meets is the session's. The token response does not say when that is; the id_token does say when the user
 * signed in (`auth_time`, OpenID Connect Core §2), and the session ends 8 hours after.
 */

/** The server's sign-in session: 8 hours (SESSION_SECONDS in server/auth/sessions.ts). */
export const SIGN_IN_SESSION_SECONDS = 8 * 3600;
/** How long before the end the warning shows: time to finish a sentence, not to start a new task. */
export const WARN_BEFORE_SECONDS = 5 * 60;

/**
 * When the session ends, or undefined when the app cannot know (no id_token with `auth_time`) or it does not end
 * with the sign-in (no `online_access`: then the access token's own end is the app's, and a 401 says so).
 */
export function sessionEndsAt(scope: string | undefined, idToken: Record<string, unknown> | null | undefined): number | undefined {
  if (!(scope ?? '').split(/\s+/).includes('online_access')) return undefined;
  const authTime = idToken?.auth_time;
  if (typeof authTime !== 'number' || !Number.isFinite(authTime)) return undefined;
  return authTime + SIGN_IN_SESSION_SECONDS;
}

export type SessionClock =
  /** Nothing to say yet; look again at `checkAt`. */
  | { state: 'running'; checkAt: number }
  /** Ending: `secondsLeft` left; look again at `checkAt` (the next whole minute of what is left, to update the words). */
  | { state: 'ending'; secondsLeft: number; checkAt: number }
  | { state: 'ended' };

export function sessionClock(endsAt: number, now: number): SessionClock {
  const left = endsAt - now;
  if (left <= 0) return { state: 'ended' };
  if (left > WARN_BEFORE_SECONDS) return { state: 'running', checkAt: endsAt - WARN_BEFORE_SECONDS };
  // "in 4 minutes" while 3 min 1 s to 4 min are left: look again when the count of whole minutes changes.
  const step = left > 60 ? (left % 60 || 60) : left;
  return { state: 'ending', secondsLeft: left, checkAt: now + step };
}

/** What is left, in words a person reads at a glance: rounded up to whole minutes, "less than a minute" at the end. */
export function timeLeftInWords(secondsLeft: number): string {
  if (secondsLeft <= 60) return 'less than a minute';
  const minutes = Math.ceil(secondsLeft / 60);
  return `${minutes} minutes`;
}
