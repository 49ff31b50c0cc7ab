import { randomBytes } from 'node:crypto';
import { issueBindingToken, verifyBindingToken } from '../../../server/delivery/channels/binding-token.js';

describe('websocket binding tokens', () => {
  const secret = randomBytes(32);
  const now = Date.parse('2026-12-07T15:00:00.000Z');

  it('carry the subscriptions and the expiry, verifiable by any holder of the secret', () => {
    const { token, expiration } = issueBindingToken(secret, ['sub-1', 'sub-2'], 600, now);
    expect(expiration).toBe('2026-12-07T15:10:00.000Z');
    expect(verifyBindingToken(Buffer.from(secret), token, now + 1000)).toEqual({
      ok: true,
      subscriptions: ['sub-1', 'sub-2'],
      expiresAt: now + 600_000,
    });
  });

  it('expire at their expiration', () => {
    const { token } = issueBindingToken(secret, ['sub-1'], 600, now);
    expect(verifyBindingToken(secret, token, now + 599_999).ok).toBe(true);
    expect(verifyBindingToken(secret, token, now + 600_000)).toEqual({ ok: false, reason: 'expired' });
  });

  it('do not verify with another secret, with changed claims or with a respelled signature', () => {
    const { token } = issueBindingToken(secret, ['sub-1'], 600, now);
    expect(verifyBindingToken(randomBytes(32), token, now)).toEqual({ ok: false, reason: 'signature' });
    const [version, claims, signature] = token.split('.');
    const widened = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(claims, 'base64url').toString()), sub: ['sub-1', 'sub-9'] })).toString('base64url');
    expect(verifyBindingToken(secret, `${version}.${widened}.${signature}`, now)).toEqual({ ok: false, reason: 'signature' });
    expect(verifyBindingToken(secret, `${version}.${claims}.${signature}=`, now)).toEqual({ ok: false, reason: 'signature' });
  });

  it('are refused when malformed', () => {
    expect(verifyBindingToken(secret, '', now)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyBindingToken(secret, 'v2.a.b', now)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyBindingToken(secret, 'v1.a.b.c', now)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('need a secret of at least 32 bytes', () => {
    expect(() => issueBindingToken('too short', ['sub-1'], 600, now)).toThrow('at least 32 bytes');
    expect(() => verifyBindingToken(Buffer.alloc(16), 'v1.a.b', now)).toThrow('at least 32 bytes');
  });
});
