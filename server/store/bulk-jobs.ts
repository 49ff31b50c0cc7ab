import type { ExportFile, ExportJob, ExportOwner, ExportSpec, JobState } from '../bulk/model.js';
import { R4_COMPARTMENTS } from '../fhir/r4/compartments.generated.js';
import type { Database } from './database.js';

/**
 * The storage of Bulk Data export jobs (migration 016, docs/BULK.md): jobs with their lease and resume point, their
 * files as parts, the patients a restricted export contained. The engine (server/export/engine/) runs the jobs;
 * this file knows nothing of how.
 */

/** Where a job is: what the next chunk continues from. Written with each part, in the part's transaction. */
export interface JobProgress {
  /** `output`: the types in turn; `deleted`: a `_since` export's deletes, type by type; `done`: nothing left. */
  phase: 'output' | 'deleted' | 'done';
  /** The type of `spec.types` the phase is at. */
  typeIndex: number;
  /** The keyset position within that type. */
  afterRid: string;
  /** The file being written, not yet complete. */
  file?: OpenFile;
  /** `includeAssociatedData=LatestProvenanceResources`: the Provenance file being written alongside. */
  provenanceFile?: OpenFile;
  /** The number the next file gets. */
  nextFile: number;
  /** The highest rid when the job started: how far along a type is, for the progress percentage. */
  maxRid: string;
}

export interface OpenFile {
  number: number;
  count: number;
  bytes: number;
  parts: number;
}

/** A job as stored. */
export interface StoredJob {
  id: string;
  owner: ExportOwner;
  spec: ExportSpec;
  request: string;
  transactionTime: Date;
  /** PostgreSQL: the snapshot taken after `transactionTime`; reading waits until the transactions it saw in progress end. */
  snapshot?: string;
  state: Exclude<JobState, 'cancelled'>;
  progress: JobProgress;
  issues: ExportJob['issues'];
  leaseOwner?: string;
  leaseUntil?: Date;
  completed?: Date;
  expires?: Date;
}

interface JobRow {
  id: string;
  owner: ExportOwner;
  spec: ExportSpec;
  request: string;
  transaction_time: Date | string;
  snapshot: string | null;
  state: StoredJob['state'];
  progress: JobProgress;
  issues: ExportJob['issues'];
  lease_owner: string | null;
  lease_until: Date | string | null;
  completed: Date | string | null;
  expires: Date | string | null;
}

const JOB_COLUMNS = 'id, owner, spec, request, transaction_time, snapshot, state, progress, issues, lease_owner, lease_until, completed, expires';

const date = (value: Date | string | null): Date | undefined => (value === null ? undefined : new Date(value));

function fromRow(row: JobRow): StoredJob {
  return {
    id: row.id,
    owner: row.owner,
    spec: row.spec,
    request: row.request,
    transactionTime: new Date(row.transaction_time),
    snapshot: row.snapshot ?? undefined,
    state: row.state,
    progress: row.progress,
    issues: row.issues,
    leaseOwner: row.lease_owner ?? undefined,
    leaseUntil: date(row.lease_until),
    completed: date(row.completed),
    expires: date(row.expires),
  };
}

/**
 * Records a new job. Its transaction time is this moment's clock (the one writes stamp `lastUpdated` with); on
 * PostgreSQL a snapshot is taken once the clock has passed it, so every transaction that may have stamped a version
 * by then has ended or is among the snapshot's transactions in progress, and the job reads nothing until those have
 * ended (`snapshotReady`): a version stamped by T is then committed, or rolled back, before the job reads.
 */
export async function insertJob(
  db: Database,
  job: { id: string; owner: ExportOwner; spec: ExportSpec; request: string; issues: ExportJob['issues'] },
): Promise<StoredJob> {
  const transactionTime = new Date();
  const [{ max }] = await db.query<{ max: string | null }>('SELECT max(rid)::text AS max FROM resource');
  const progress: JobProgress = { phase: 'output', typeIndex: 0, afterRid: '0', nextFile: 1, maxRid: max ?? '0' };
  // A write stamped in this same millisecond must be in the snapshot's view: let the clock move on first.
  while (Date.now() <= transactionTime.getTime()) await new Promise((resolve) => setTimeout(resolve, 1));
  const snapshot = db.dialect === 'postgres' ? 'pg_current_snapshot()::text' : 'NULL';
  const [row] = await db.query<JobRow>(
    `INSERT INTO bulk_job (id, owner, spec, request, transaction_time, snapshot, state, progress, issues)
     VALUES ($1, $2, $3, $4, $5, ${snapshot}, 'accepted', $6, $7) RETURNING ${JOB_COLUMNS}`,
    [job.id, JSON.stringify(job.owner), JSON.stringify(job.spec), job.request, transactionTime, JSON.stringify(progress), JSON.stringify(job.issues)],
  );
  return fromRow(row);
}

/**
 * Whether the transactions the job's snapshot saw in progress have all ended (PostgreSQL; always on PGlite, one
 * session). Only those: waiting for the oldest transaction of the whole cluster instead would hold a job back
 * behind any long transaction, of any database, begun later.
 */
export async function snapshotReady(db: Database, snapshot: string | undefined): Promise<boolean> {
  if (snapshot === undefined || db.dialect !== 'postgres') return true;
  const [row] = await db.query<{ ready: boolean }>(
    `SELECT NOT EXISTS (SELECT 1 FROM pg_snapshot_xip($1::pg_snapshot) x WHERE pg_xact_status(x) = 'in progress') AS ready`,
    [snapshot],
  );
  return row.ready;
}

export async function readJob(db: Database, id: string): Promise<StoredJob | undefined> {
  const rows = await db.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM bulk_job WHERE id = $1`, [id]);
  return rows.length ? fromRow(rows[0]) : undefined;
}

/**
 * Takes the lease of a job to run (the oldest runnable one, or `id`): one whose lease is free, has run out (its
 * process died), or is already `processId`'s. Rows another process is claiming right now are skipped, so two
 * processes never take one job.
 */
export async function claimJob(db: Database, processId: string, leaseSeconds: number, id?: string): Promise<StoredJob | undefined> {
  const rows = await db.query<JobRow>(
    `UPDATE bulk_job SET lease_owner = $1, lease_until = now() + make_interval(secs => $2), state = 'running'
     WHERE id = (
       SELECT id FROM bulk_job
       WHERE state IN ('accepted', 'running') AND ($3::text IS NULL OR id = $3)
         AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < now())
       ORDER BY created LIMIT 1 FOR UPDATE SKIP LOCKED)
     RETURNING ${JOB_COLUMNS}`,
    [processId, leaseSeconds, id ?? null],
  );
  return rows.length ? fromRow(rows[0]) : undefined;
}

/**
 * Within a chunk's transaction: the job, locked, if `processId` still holds its lease and it still runs. Undefined
 * when it was cancelled, or taken over by another process after the lease ran out: the chunk then rolls back.
 */
export async function lockJob(tx: Database, id: string, processId: string): Promise<StoredJob | undefined> {
  const rows = await tx.query<JobRow>(
    `SELECT ${JOB_COLUMNS} FROM bulk_job WHERE id = $1 AND lease_owner = $2 AND state = 'running' FOR UPDATE`,
    [id, processId],
  );
  return rows.length ? fromRow(rows[0]) : undefined;
}

/** The resume point after a chunk, and the lease renewed. */
export async function saveProgress(tx: Database, id: string, progress: JobProgress, leaseSeconds: number): Promise<void> {
  await tx.query(`UPDATE bulk_job SET progress = $2, lease_until = now() + make_interval(secs => $3) WHERE id = $1`, [id, JSON.stringify(progress), leaseSeconds]);
}

/** Gives back the leases `processId` holds (a graceful stop), so another process continues at once. */
export async function releaseLeases(db: Database, processId: string): Promise<void> {
  await db.query(`UPDATE bulk_job SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1`, [processId]);
}

/** Ends a job: complete or failed, its files kept until `expires`. */
export async function finishJob(
  tx: Database,
  id: string,
  processId: string,
  state: 'complete' | 'failed',
  issues: ExportJob['issues'],
  expiresHours: number,
): Promise<void> {
  await tx.query(
    `UPDATE bulk_job SET state = $2, issues = $3, lease_owner = NULL, lease_until = NULL, completed = now(),
       expires = now() + make_interval(secs => $4)
     WHERE id = $1 AND lease_owner = $5`,
    [id, state, JSON.stringify(issues), expiresHours * 3600, processId],
  );
}

/** A new file of the job, not listed until complete. */
export async function openFile(tx: Database, jobId: string, number: number, kind: ExportFile['kind'], type: string): Promise<void> {
  await tx.query(`INSERT INTO bulk_file (job_id, number, kind, resource_type) VALUES ($1, $2, $3, $4)`, [jobId, number, kind, type]);
}

/**
 * What a part holds: the rids of exported resources, in order (their text is read at the download, as of the job's
 * transaction time), or text of its own (lines each ending in a newline: a `_since` export's deleted Bundles).
 */
export type PartContent = { rids: readonly string[] } | { data: string };

/** One part of a file: `lines` lines, `bytes` bytes once downloaded. */
export async function appendPart(tx: Database, jobId: string, file: OpenFile, content: PartContent, lines: number, bytes: number): Promise<void> {
  const [rids, data] = 'rids' in content ? [content.rids, null] : [null, content.data];
  await tx.query(
    `WITH part AS (INSERT INTO bulk_file_part (job_id, number, part, rids, data) VALUES ($1, $2, $3, $4::bigint[], $5))
     UPDATE bulk_file SET count = count + $6, bytes = bytes + $7, parts = parts + 1 WHERE job_id = $1 AND number = $2`,
    [jobId, file.number, file.parts, rids, data, lines, bytes],
  );
}

export async function completeFile(tx: Database, jobId: string, number: number): Promise<void> {
  await tx.query(`UPDATE bulk_file SET complete = true WHERE job_id = $1 AND number = $2`, [jobId, number]);
}

interface FileRow {
  number: number;
  kind: ExportFile['kind'];
  resource_type: string;
  count: number;
  bytes: string | number;
}

const toFile = (row: FileRow): ExportFile => ({ number: row.number, kind: row.kind, type: row.resource_type, count: row.count, bytes: Number(row.bytes) });

/** The job's complete files, in order. */
export async function completeFiles(db: Database, jobId: string): Promise<ExportFile[]> {
  const rows = await db.query<FileRow>(
    `SELECT number, kind, resource_type, count, bytes FROM bulk_file WHERE job_id = $1 AND complete ORDER BY number`,
    [jobId],
  );
  return rows.map(toFile);
}

/** One complete file of the job, with its number of parts. */
export async function publishedFile(db: Database, jobId: string, number: number): Promise<(ExportFile & { parts: number }) | undefined> {
  const rows = await db.query<FileRow & { parts: number }>(
    `SELECT number, kind, resource_type, count, bytes, parts FROM bulk_file WHERE job_id = $1 AND number = $2 AND complete`,
    [jobId, number],
  );
  return rows.length ? { ...toFile(rows[0]), parts: rows[0].parts } : undefined;
}

/** A file's parts one at a time, so a download holds one part in memory; stops if the job goes meanwhile. */
export async function* fileParts(db: Database, jobId: string, number: number, parts: number): AsyncIterable<PartContent> {
  for (let part = 0; part < parts; part++) {
    const rows = await db.query<{ rids: string[] | null; data: string | null }>(
      `SELECT rids::text[] AS rids, data FROM bulk_file_part WHERE job_id = $1 AND number = $2 AND part = $3`,
      [jobId, number, part],
    );
    if (!rows.length) return;
    const [row] = rows;
    yield row.rids ? { rids: row.rids } : { data: row.data ?? '' };
  }
}

/**
 * Records the patients whose compartments the rows `rids` of `type` are in (the Patients themselves, and the
 * patients a compartment parameter names), for a consent-restricted export's AuditEvents.
 */
export async function recordPatients(tx: Database, jobId: string, type: string, rids: readonly string[]): Promise<void> {
  if (!rids.length) return;
  if (type === 'Patient') {
    await tx.query(
      `INSERT INTO bulk_job_patient (job_id, patient) SELECT $1, id FROM resource WHERE rid = ANY($2::bigint[]) ON CONFLICT DO NOTHING`,
      [jobId, rids],
    );
    return;
  }
  const params = R4_COMPARTMENTS.Patient[type];
  if (!params) return;
  await tx.query(
    `INSERT INTO bulk_job_patient (job_id, patient)
     SELECT DISTINCT $1, i.target_id FROM search_reference i
     WHERE i.rid = ANY($2::bigint[]) AND i.resource_type = $3 AND i.param = ANY($4::text[]) AND i.target_type = 'Patient'
     ON CONFLICT DO NOTHING`,
    [jobId, rids, type, params],
  );
}

export async function jobPatients(db: Database, jobId: string): Promise<string[]> {
  const rows = await db.query<{ patient: string }>(`SELECT patient FROM bulk_job_patient WHERE job_id = $1 ORDER BY patient`, [jobId]);
  return rows.map((row) => row.patient);
}

/**
 * Records a status poll: 0 when it comes at least `minSeconds` after the last one recorded (which it then becomes),
 * else the whole seconds left to wait (the poll is not recorded: waiting is measured from the last one answered).
 */
export async function recordPoll(db: Database, jobId: string, minSeconds: number): Promise<number> {
  return db.transaction(async (tx) => {
    const rows = await tx.query<{ wait: number | string }>(
      `SELECT CASE WHEN last_poll IS NULL THEN 0
         ELSE greatest(0, extract(epoch FROM last_poll + make_interval(secs => $2) - now())) END AS wait
       FROM bulk_job WHERE id = $1 FOR UPDATE`,
      [jobId, minSeconds],
    );
    if (!rows.length) return 0;
    const wait = Number(rows[0].wait);
    if (wait > 0) return Math.ceil(wait);
    await tx.query('UPDATE bulk_job SET last_poll = now() WHERE id = $1', [jobId]);
    return 0;
  });
}

/** Removes a job and everything of it (cancel). */
export async function deleteJob(db: Database, jobId: string): Promise<boolean> {
  const rows = await db.query(`DELETE FROM bulk_job WHERE id = $1 RETURNING id`, [jobId]);
  return rows.length > 0;
}

/** Removes the jobs expired by `at`, with their files; how many. */
export async function removeExpiredJobs(db: Database, at: Date): Promise<number> {
  const rows = await db.query(`DELETE FROM bulk_job WHERE expires <= $1 RETURNING id`, [at]);
  return rows.length;
}

/** Of the Provenance rows `rids`, those the job has not written yet, now recorded as written. */
export async function firstProvenance(tx: Database, jobId: string, rids: readonly string[]): Promise<Set<string>> {
  if (!rids.length) return new Set();
  const rows = await tx.query<{ rid: string }>(
    `INSERT INTO bulk_job_provenance (job_id, rid) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING RETURNING rid::text AS rid`,
    [jobId, rids],
  );
  return new Set(rows.map((row) => row.rid));
}
