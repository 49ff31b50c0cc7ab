import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The websocket binding tokens `$get-ws-binding-token` hands out (Backport IG): which Subscriptions a websocket
 * may bind to, and until when. They are signed, not stored (HMAC-SHA256 with a secret every server process is
 * given), so a token issued by one process binds a socket held by any other, and nothing has to be cleaned up.
 * The form is `v1.<claims>.<signature>`, both parts base64url; the claims are JSON `{ "sub": [ids], "exp": ms }`.
 * Whoever holds a token may bind until it expires, so the operation gives short-lived ones.
 */
export interface BindingClaims {
  subscriptions: string[];
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export type VerifiedBinding = ({ ok: true } & BindingClaims) | { ok: false; reason: 'malformed' | 'signature' | 'expired' };

const VERSION = 'v1';
/** 256 bits: the key length of HMAC-SHA256; a shorter secret would be the weak point. */
export const MIN_SECRET_BYTES = 32;

export function issueBindingToken(
  secret: string | Buffer,
  subscriptions: readonly string[],
  ttlSeconds: number,
  now: number = Date.now(),
): { token: string; expiration: string } {
  const expiresAt = now + Math.round(ttlSeconds * 1000);
  const claims = Buffer.from(JSON.stringify({ sub: subscriptions, exp: expiresAt }), 'utf8').toString('base64url');
  const signed = `${VERSION}.${claims}`;
  return { token: `${signed}.${sign(key(secret), signed)}`, expiration: new Date(expiresAt).toISOString() };
}

export function verifyBindingToken(secret: string | Buffer, token: string, now: number = Date.now()): VerifiedBinding {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) return { ok: false, reason: 'malformed' };
  const signed = `${parts[0]}.${parts[1]}`;
  // Compared as text: a signature spelled differently (base64 decoders skip stray characters) is not the same token.
  const expected = Buffer.from(sign(key(secret), signed), 'utf8');
  const given = Buffer.from(parts[2], 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature' };
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const { sub, exp } = (claims ?? {}) as { sub?: unknown; exp?: unknown };
  if (!Array.isArray(sub) || !sub.every((id) => typeof id === 'string') || typeof exp !== 'number') {
    return { ok: false, reason: 'malformed' };
  }
  if (exp <= now) return { ok: false, reason: 'expired' };
  return { ok: true, subscriptions: sub as string[], expiresAt: exp };
}

function key(secret: string | Buffer): Buffer {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  if (bytes.length < MIN_SECRET_BYTES) throw new Error(`the websocket binding secret must be at least ${MIN_SECRET_BYTES} bytes`);
  return bytes;
}

/** The purpose is part of what is signed, so a signature made with the same secret for anything else never passes. */
function sign(secret: Buffer, signed: string): string {
  return createHmac('sha256', secret).update(`ccp-exchange ws-binding\n${signed}`).digest('base64url');
}
