import type { RequestHandler } from 'express';
import type { Database } from '../store/database.js';

/** Liveness: the process answers. */
export const healthz: RequestHandler = (_req, res) => {
  res.json({ status: 'ok' });
};

/** Readiness: the database answers too. */
export function readyz(db: Database): RequestHandler {
  return async (_req, res) => {
    try {
      await db.query('SELECT 1');
      res.json({ status: 'ready', database: db.dialect });
    } catch {
      res.status(503).json({ status: 'unavailable', database: db.dialect });
    }
  };
}
