import { SIGN_IN_SESSION_SECONDS, sessionClock, sessionEndsAt, timeLeftInWords, WARN_BEFORE_SECONDS } from '../../app/src/launch/session-clock.js';

// 2026-03-02T09:00:00Z, a sign-in at the start of a day shift.
const SIGNED_IN = 1_772_442_000;
// 8 hours later: 2026-03-02T17:00:00Z.
const ENDS = 1_772_470_800;

describe('sessionEndsAt: the end of the sign-in session, from the id_token and the scope', () => {
  test('online_access: 8 hours after auth_time', () => {
    expect(SIGN_IN_SESSION_SECONDS).toBe(28_800);
    expect(ENDS - SIGNED_IN).toBe(28_800);
    expect(sessionEndsAt('launch openid fhirUser online_access user/*.cruds', { auth_time: SIGNED_IN, sub: 'u' })).toBe(ENDS);
  });

  test('unknown without online_access, without an id_token, or without a numeric auth_time', () => {
    expect(sessionEndsAt('openid fhirUser user/*.cruds', { auth_time: SIGNED_IN })).toBeUndefined();
    // A scope that only contains the word does not count.
    expect(sessionEndsAt('openid fhirUser not_online_access', { auth_time: SIGNED_IN })).toBeUndefined();
    expect(sessionEndsAt('openid online_access', null)).toBeUndefined();
    expect(sessionEndsAt('openid online_access', {})).toBeUndefined();
    expect(sessionEndsAt('openid online_access', { auth_time: '1772442000' })).toBeUndefined();
    expect(sessionEndsAt(undefined, { auth_time: SIGNED_IN })).toBeUndefined();
  });
});

describe('sessionClock: nothing until 5 minutes before the end, then the minutes left, then ended', () => {
  test('right after sign-in: nothing to say; look again 5 minutes before the end (16:55)', () => {
    expect(WARN_BEFORE_SECONDS).toBe(300);
    expect(sessionClock(ENDS, SIGNED_IN)).toEqual({ state: 'running', checkAt: ENDS - 300 });
    // One second before the warning.
    expect(sessionClock(ENDS, ENDS - 301)).toEqual({ state: 'running', checkAt: ENDS - 300 });
  });

  test('at 16:55:00 exactly: ending, 5 minutes; the words change at 16:56:00 (4 minutes left)', () => {
    expect(sessionClock(ENDS, ENDS - 300)).toEqual({ state: 'ending', secondsLeft: 300, checkAt: ENDS - 240 });
    expect(timeLeftInWords(300)).toBe('5 minutes');
  });

  test('at 16:55:50 (4 min 10 s left): "5 minutes" (rounded up), next look at 16:56:00', () => {
    expect(sessionClock(ENDS, ENDS - 250)).toEqual({ state: 'ending', secondsLeft: 250, checkAt: ENDS - 240 });
    expect(timeLeftInWords(250)).toBe('5 minutes');
    expect(timeLeftInWords(240)).toBe('4 minutes');
  });

  test('at 16:58:59 (61 s left): "2 minutes", next look 1 s later; from 60 s on, "less than a minute" until the end', () => {
    expect(sessionClock(ENDS, ENDS - 61)).toEqual({ state: 'ending', secondsLeft: 61, checkAt: ENDS - 60 });
    expect(timeLeftInWords(61)).toBe('2 minutes');
    expect(sessionClock(ENDS, ENDS - 60)).toEqual({ state: 'ending', secondsLeft: 60, checkAt: ENDS });
    expect(timeLeftInWords(60)).toBe('less than a minute');
    expect(sessionClock(ENDS, ENDS - 7)).toEqual({ state: 'ending', secondsLeft: 7, checkAt: ENDS });
  });

  test('at 17:00:00 and after (a laptop woken late): ended', () => {
    expect(sessionClock(ENDS, ENDS)).toEqual({ state: 'ended' });
    expect(sessionClock(ENDS, ENDS + 3600)).toEqual({ state: 'ended' });
  });

  test('every look lands on the next change: walking the last 5 minutes visits each whole minute once', () => {
    const seen: string[] = [];
    let now = ENDS - 300;
    for (let clock = sessionClock(ENDS, now); clock.state !== 'ended'; clock = sessionClock(ENDS, now)) {
      if (clock.state === 'ending') seen.push(timeLeftInWords(clock.secondsLeft));
      now = clock.checkAt;
    }
    expect(seen).toEqual(['5 minutes', '4 minutes', '3 minutes', '2 minutes', 'less than a minute']);
    expect(now).toBe(ENDS);
  });
});
