import { useEffect, useState } from 'preact/hooks';
import { sessionClock, type SessionClock, timeLeftInWords } from '../launch/session-clock.js';
import { formatDateTime } from './format.js';

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * The warning before the sign-in session ends (launch/session-clock.ts): an alert a few minutes before, with a new
 * sign-in to go on or a sign-out, and an alert once it has ended. Nothing shows before. The words change once a
 * minute, each time announced: a screen reader user hears how long is left without looking for it.
 */
export function SessionWarning({ endsAt, onRenew, onSignOut }: { endsAt: number; onRenew: () => void; onSignOut: () => void }) {
  const [clock, setClock] = useState<SessionClock>(() => sessionClock(endsAt, nowSeconds()));

  useEffect(() => {
    if (clock.state === 'ended') return;
    // A timer may fire late (a sleeping laptop, a background tab): the clock is read again from the time then.
    const timer = setTimeout(() => setClock(sessionClock(endsAt, nowSeconds())), Math.max(0, clock.checkAt - nowSeconds()) * 1000 + 250);
    return () => clearTimeout(timer);
  }, [clock, endsAt]);

  if (clock.state === 'running') return null;
  const at = formatDateTime(new Date(endsAt * 1000).toISOString());
  return (
    <div role="alert" class="alert session-warning">
      {clock.state === 'ending' ? (
        <p>
          Your sign-in ends in {timeLeftInWords(clock.secondsLeft)} (at {at}). Sign in again to keep working, or sign out.
        </p>
      ) : (
        <p>Your sign-in ended at {at}. Sign in again to go on.</p>
      )}
      <p class="actions">
        <button type="button" class="primary" onClick={onRenew}>
          Sign in again
        </button>{' '}
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </p>
    </div>
  );
}
