import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { BulkExports, ExportJob, ExportOwner } from '../../bulk/model.js';
import type { SearchParameterRegistry } from '../../search/registry.js';
import {
  claimJob,
  completeFiles,
  deleteJob,
  insertJob,
  jobPatients,
  publishedFile,
  readJob,
  recordPoll,
  releaseLeases,
  removeExpiredJobs,
  fileParts,
  type StoredJob,
} from '../../store/bulk-jobs.js';
import type { Database } from '../../store/database.js';
import { periodicRound } from '../../store/periodic-round.js';
import { DatabaseUnavailable } from '../../store/unavailable.js';
import { type ChunkSettings, outputTypes, runChunk, type StepOutcome } from './chunk.js';
import { fileText } from './download.js';

export interface BulkExportOptions {
  /**
   * Rows read per chunk (BULK_EXPORT_CHUNK_ROWS, default 10,000): fewer, larger transactions on PostgreSQL; on PGlite
   * at most 250, so requests get their turn between chunks.
   */
  chunkRows?: number;
  /** A file is cut before it would pass this size (BULK_EXPORT_FILE_BYTES). */
  fileBytes?: number;
  /** How long a finished job's files stay (BULK_EXPORT_EXPIRES_HOURS). */
  expiresHours?: number;
  /** Status polls closer together than this are told to wait (BULK_EXPORT_MIN_POLL_SECONDS: a 429). */
  minPollSeconds?: number;
  /** How long a job's lease lasts without a chunk committed: a job of a dead process is taken over after it. */
  leaseSeconds?: number;
  /** This process's name on the leases it takes (random by default). */
  processId?: string;
  /** How long the runner rests when no job is ready to run. */
  idleMs?: number;
  /** Seconds between two rounds removing expired jobs. */
  expiryRoundSeconds?: number;
  logger?: Logger;
}

/** What the engine needs of the interactions' context (server/rest/types.ts FhirContext). */
export interface ExportContext {
  registry: SearchParameterRegistry;
  options: { hostingOrganization?: string };
}

/** The engine: the operations' `BulkExports`, the runner that works jobs off, and steps for tests. */
export interface BulkExportEngine extends BulkExports {
  /** Runs jobs in the background (claimed with a lease, chunk by chunk) and removes expired ones periodically. */
  run(): void;
  /** Stops the runner after its current chunk and gives its leases back, so another process continues at once. */
  stop(): Promise<void>;
  /** One chunk of the job `id`, claiming its lease if free (or run out); `lost` when another process holds it. */
  step(id: string): Promise<StepOutcome>;
  /** Claims the oldest runnable job and runs it to its end (or until it must wait); its id, or undefined if none. */
  runOnce(): Promise<string | undefined>;
  /** Removes the jobs expired at `at` (now), with their files; how many. */
  expire(at?: Date): Promise<number>;
}

const DEFAULTS = {
  chunkRows: 10_000,
  fileBytes: 64 * 1024 * 1024,
  expiresHours: 24,
  minPollSeconds: 2,
  leaseSeconds: 60,
  idleMs: 1000,
  expiryRoundSeconds: 600,
};

/** Whether `owner` is the one who started `job`: the same kind, client and user. */
function owns(owner: ExportOwner, job: StoredJob): boolean {
  return job.owner.kind === owner.kind && job.owner.clientId === owner.clientId && job.owner.userId === owner.userId;
}

/**
 * Bulk Data export jobs (docs/BULK.md): the operations start, read, poll, cancel jobs and download their files
 * through it; `start()` runs them in this process. Any number of processes may run engines on one database: a job
 * is run by the holder of its lease, and continues from its last committed chunk in whichever process takes it.
 */
export function createBulkExports(db: Database, context: ExportContext, options: BulkExportOptions = {}): BulkExportEngine {
  const settings = { ...DEFAULTS, ...options };
  const processId = options.processId ?? randomUUID();
  const chunk: ChunkSettings = {
    processId,
    chunkRows: db.dialect === 'pglite' ? Math.min(settings.chunkRows, 250) : settings.chunkRows,
    fileBytes: settings.fileBytes,
    expiresHours: settings.expiresHours,
    leaseSeconds: settings.leaseSeconds,
    registry: context.registry,
    consent: { hostingOrganization: context.options.hostingOrganization },
  };
  const logger = options.logger;
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let working: Promise<void> | undefined;

  const ownJob = async (owner: ExportOwner, id: string): Promise<StoredJob | undefined> => {
    const job = await readJob(db, id);
    // Expired is gone, whether or not the expiry round has removed it yet.
    return job && owns(owner, job) && !(job.expires && job.expires.getTime() <= Date.now()) ? job : undefined;
  };

  const view = async (job: StoredJob): Promise<ExportJob> => {
    const patients = await jobPatients(db, job.id);
    return {
      id: job.id,
      owner: job.owner,
      spec: job.spec,
      request: job.request,
      transactionTime: job.transactionTime.toISOString(),
      state: job.state,
      progress: percent(job),
      files: await completeFiles(db, job.id),
      issues: job.issues,
      ...(job.expires ? { expires: job.expires.toISOString() } : {}),
      ...(patients.length ? { patients: patients.map((id) => ({ reference: `Patient/${id}` })) } : {}),
    };
  };

  /** Chunks of `job` until it ends, must wait, is lost, or the engine stops; PGlite yields between chunks. */
  const runJob = async (job: StoredJob): Promise<StepOutcome> => {
    for (let first = true; ; first = false) {
      // Once the snapshot is ready it stays so: later chunks of this run need not ask again.
      const outcome = await runChunk(db, first ? job : { ...job, snapshot: undefined }, chunk);
      if (outcome !== 'chunk' || stopped) return outcome;
      if (db.dialect === 'pglite') await new Promise((resolve) => setImmediate(resolve));
    }
  };

  /** Claims the oldest runnable job and works it; what came of it, or undefined when no job was free. */
  const claimAndRun = async (): Promise<{ id: string; outcome: StepOutcome } | undefined> => {
    const job = await claimJob(db, processId, settings.leaseSeconds);
    if (!job) return undefined;
    const outcome = await runJob(job);
    if (outcome !== 'waiting') logger?.info({ job: job.id, outcome }, 'bulk export: job worked');
    return { id: job.id, outcome };
  };
  const runOnce = async (): Promise<string | undefined> => (await claimAndRun())?.id;

  const expiry = periodicRound({
    name: 'bulk export expiry',
    intervalMs: settings.expiryRoundSeconds * 1000,
    logger,
    firstAtStart: true,
    run: () => removeExpiredJobs(db, new Date()),
    report: (removed) => {
      if (removed) logger?.info({ removed }, 'bulk export: expired jobs removed');
    },
  });

  /**
   * The runner: jobs one after another while there are some, then a rest. A job still waiting for its snapshot ends
   * the round, so the rest gives the transactions it waits for time to end instead of spinning on it.
   */
  let failing = false;
  const work = async (): Promise<void> => {
    try {
      for (;;) {
        if (stopped) return;
        const worked = await claimAndRun();
        failing = false;
        if (!worked || worked.outcome === 'waiting') return;
      }
    } catch (error) {
      // Once per run of failures, as the server's other rounds (store/periodic-round.ts): the job is retried every
      // round. An outage is not the job's fault and the availability guard logs it (store/availability.ts): its
      // reason is enough.
      if (!failing) {
        const detail = error instanceof DatabaseUnavailable ? { reason: error.reason } : { err: error };
        logger?.warn(detail, 'bulk export: a chunk failed; the job is retried every round (logged once until a round succeeds)');
      }
      failing = true;
    }
  };
  const schedule = (delayMs: number) => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      working = work().finally(() => {
        working = undefined;
        schedule(settings.idleMs);
      });
    }, delayMs);
    timer.unref();
  };
  const wake = () => {
    if (stopped || working) return;
    if (timer) clearTimeout(timer);
    timer = undefined;
    schedule(0);
  };

  return {
    async start(owner, spec, request, issues) {
      const job = await insertJob(db, { id: randomUUID(), owner, spec, request, issues });
      wake();
      return view(job);
    },
    async job(owner, id) {
      const job = await ownJob(owner, id);
      return job && view(job);
    },
    async cancel(owner, id) {
      const job = await ownJob(owner, id);
      return job ? deleteJob(db, id) : false;
    },
    async file(owner, id, number) {
      const job = await ownJob(owner, id);
      const file = job && (await publishedFile(db, id, number));
      if (!file) return undefined;
      const { parts, ...listed } = file;
      return { file: listed, lines: fileText(db, job, listed.type, fileParts(db, id, number, parts)) };
    },
    async poll(owner, id) {
      const job = await ownJob(owner, id);
      return job ? recordPoll(db, id, settings.minPollSeconds) : 0;
    },
    run() {
      if (!stopped) return;
      stopped = false;
      expiry.start();
      schedule(0);
    },
    step: async (id) => {
      const job = await claimJob(db, processId, settings.leaseSeconds, id);
      return job ? runChunk(db, job, chunk) : 'lost';
    },
    runOnce,
    expire: (at = new Date()) => removeExpiredJobs(db, at),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await working;
      await expiry.stop();
      await releaseLeases(db, processId);
    },
  };
}

/**
 * How far a job is, 0–100, for `X-Progress`: the types done and the keyset's place within the current one (rid
 * over the highest rid at the start); a `_since` export's deletes take the last tenth.
 */
export function percent(job: StoredJob): number {
  if (job.state === 'complete') return 100;
  const { progress, spec } = job;
  const share = spec.since ? 90 : 99;
  const within = Math.min(1, Number(progress.afterRid) / Math.max(1, Number(progress.maxRid)));
  if (progress.phase === 'output') {
    const types = Math.max(1, outputTypes(spec).length);
    return Math.min(share, Math.floor(((progress.typeIndex + within) / types) * share));
  }
  if (progress.phase === 'deleted') {
    const types = Math.max(1, spec.types.length);
    return Math.min(99, 90 + Math.floor(((progress.typeIndex + within) / types) * 9));
  }
  return 99;
}
