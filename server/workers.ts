import cluster from 'node:cluster';
import type { Logger } from './log/logger.js';

/**
 * WORKERS=N: N server processes sharing one port (node:cluster), on one PostgreSQL, which arbitrates between them as
 * between any processes (docs/DEPLOY.md, "Several server processes"). The first starts alone, since it may have the
 * most to do (migrations, the guide, a first start's accounts and their one-time secrets), the others once it
 * listens. This primary process serves nothing: it passes a stop on and ends when every worker has; a worker ending
 * on its own takes the others down, for whatever supervises the server to start it again.
 */
export function runWorkers(count: number, logger: Logger, exit: (code: number) => void): void {
  let stopping = false;
  let failed = false;
  const stopAll = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  cluster.fork().once('listening', () => {
    for (let started = 1; started < count && !stopping; started++) cluster.fork();
  });
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) {
      failed = true;
      logger.error({ pid: worker.process.pid, code, signal }, 'a server process ended on its own: stopping the others');
      stopAll();
    }
    if (!Object.keys(cluster.workers ?? {}).length) exit(failed ? 1 : 0);
  });
  process.once('SIGTERM', stopAll);
  process.once('SIGINT', stopAll);
  logger.info({ workers: count }, 'starting the server processes');
}
