import type { RequestHandler } from 'express';
import type { Database } from '../store/database.js';
import { RETRY_AFTER_SECONDS } from './errors.js';

/** Liveness: the process answers (also while the database is away: restarting the process would not help). */
export const healthz: RequestHandler = (_req, res) => {
  res.json({ status: 'ok' });
};

/**
 * Readiness: the database answers too. While recent statements found the database away, the answer is 503 at
 * once, without waiting for a connection that may take the pool's whole connect timeout to fail; a probe (one at
 * a time) then runs in the background, so that the database's return is noticed even when no other request comes.
 */
export function readyz(db: Database): RequestHandler {
  let probing: Promise<boolean> | undefined;
  const probe = (): Promise<boolean> =>
    (probing ??= db.query('SELECT 1').then(
      () => true,
      () => false,
    ).finally(() => (probing = undefined)));

  return async (_req, res) => {
    let ready: boolean;
    if (db.availability.down) {
      void probe();
      ready = false;
    } else {
      ready = await probe();
    }
    if (ready) res.json({ status: 'ready', database: db.dialect });
    else res.status(503).set('Retry-After', String(RETRY_AFTER_SECONDS)).json({ status: 'unavailable', database: db.dialect });
  };
}
