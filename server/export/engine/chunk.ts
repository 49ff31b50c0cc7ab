import type { Caller } from '../../access/caller.js';
import type { ConsentSettings } from '../../access/consent-gate.js';
import { deletedBundle } from '../../bulk/deleted.js';
import { elementsFor, SUBSETTED_ALLOWANCE } from '../../bulk/elements.js';
import type { ExportJob, ExportSpec } from '../../bulk/model.js';
import { FhirError } from '../../fhir/outcome.js';
import type { SearchParameterRegistry } from '../../search/registry.js';
import { heldToPatients } from '../../search/sql/consent.js';
import { deletedChunkStatement, exportChunkStatement, latestProvenanceStatement } from '../../search/sql/export.js';
import { CLINICAL_TABLES, tablesFor } from '../../search/sql/tables.js';
import {
  finishJob,
  firstProvenance,
  type JobProgress,
  lockJob,
  recordPatients,
  saveProgress,
  snapshotReady,
  type StoredJob,
} from '../../store/bulk-jobs.js';
import type { Database } from '../../store/database.js';
import { auditIndexMovedFirst } from '../../store/search.js';
import { closeFile, type FileLine, writeLines } from './files.js';
import { jobCaller, typeConditions } from './job-caller.js';

/** What the engine runs chunks with (server/export/engine/engine.ts fills it from its options). */
export interface ChunkSettings {
  processId: string;
  chunkRows: number;
  fileBytes: number;
  expiresHours: number;
  leaseSeconds: number;
  registry: SearchParameterRegistry;
  consent: ConsentSettings;
}

/**
 * What one step did: wrote a `chunk` (more to come), ended the job (`complete`, `failed`), found the snapshot not
 * yet ready (`waiting`: older transactions still run), or `lost` the job (cancelled, or taken over by another process).
 */
export type StepOutcome = 'chunk' | 'complete' | 'failed' | 'waiting' | 'lost';

export const LATEST_PROVENANCE = 'LatestProvenanceResources';

/**
 * The types exported in their own right. With LatestProvenanceResources, Bulk Data 2.0.0 returns the latest
 * Provenance of each exported resource and no other Provenance ("Other Provenance resources will not be returned"),
 * so Provenance is then written alongside the other types, never as a type of its own.
 */
export function outputTypes(spec: ExportSpec): string[] {
  return spec.includeAssociatedData?.includes(LATEST_PROVENANCE) ? spec.types.filter((type) => type !== 'Provenance') : spec.types;
}

/**
 * One chunk of `job`, in one transaction: up to `chunkRows` rows chosen, their rids and line lengths written as a
 * part of the current file (cut at `fileBytes`; the text is read at the download), the patients of a restricted
 * export recorded, and the resume point saved, or the job ended. The job is locked and its lease checked first: a
 * cancelled job or one another process took over is left alone and nothing is written. A FhirError (the caller may
 * no longer search a type; a `_typeFilter` the search cannot read) fails the job with its issues; any other error
 * leaves the job to be retried.
 */
export async function runChunk(db: Database, job: StoredJob, settings: ChunkSettings): Promise<StepOutcome> {
  if (!(await snapshotReady(db, job.snapshot))) return 'waiting';
  const caller = await jobCaller(db, job.owner);
  if (!caller) {
    await fail(db, job, settings, [{ severity: 'error', code: 'forbidden', diagnostics: 'The client or user who started the export is no longer active' }]);
    return 'failed';
  }
  try {
    return await db.transaction(async (tx) => {
      const locked = await lockJob(tx, job.id, settings.processId);
      if (!locked) return 'lost';
      const progress: JobProgress = { ...locked.progress };
      const done = await advance(tx, locked, progress, caller, settings);
      if (done) {
        await finishJob(tx, job.id, settings.processId, 'complete', locked.issues, settings.expiresHours);
        return 'complete';
      }
      await saveProgress(tx, job.id, progress, settings.leaseSeconds);
      return 'chunk';
    });
  } catch (error) {
    if (!(error instanceof FhirError)) throw error;
    await fail(db, job, settings, error.issues.map((issue) => ({ ...issue, severity: 'error' as const })));
    return 'failed';
  }
}

async function fail(db: Database, job: StoredJob, settings: ChunkSettings, issues: ExportJob['issues']): Promise<void> {
  await finishJob(db, job.id, settings.processId, 'failed', [...job.issues, ...issues], settings.expiresHours);
}

/** Moves `progress` on by one chunk; true when nothing is left. */
async function advance(tx: Database, job: StoredJob, progress: JobProgress, caller: Caller, settings: ChunkSettings): Promise<boolean> {
  if (progress.phase === 'output') {
    const types = outputTypes(job.spec);
    if (progress.typeIndex >= types.length) {
      await closeFile(tx, job.id, progress, 'provenanceFile');
      const next = job.spec.since ? 'deleted' : 'done';
      nextPhase(progress, next);
      return next === 'done';
    }
    await outputChunk(tx, job, progress, types[progress.typeIndex], caller, settings);
    return false;
  }
  if (progress.phase === 'deleted') {
    if (progress.typeIndex >= job.spec.types.length) {
      await closeFile(tx, job.id, progress, 'file');
      nextPhase(progress, 'done');
      return true;
    }
    await deletedChunk(tx, job, progress, job.spec.types[progress.typeIndex], caller, settings);
    return false;
  }
  return true;
}

function nextPhase(progress: JobProgress, phase: JobProgress['phase']): void {
  progress.phase = phase;
  progress.typeIndex = 0;
  progress.afterRid = '0';
}

/** Advances the keyset: past the last row read, or to the next type when the chunk came back short. */
function moveOn(progress: JobProgress, rows: ReadonlyArray<{ rid: string }>, limit: number): boolean {
  if (rows.length < limit) {
    progress.typeIndex++;
    progress.afterRid = '0';
    return true;
  }
  progress.afterRid = rows[rows.length - 1].rid;
  return false;
}

async function outputChunk(tx: Database, job: StoredJob, progress: JobProgress, type: string, caller: Caller, settings: ChunkSettings): Promise<void> {
  const conditions = typeConditions(caller, job.spec, type, settings.registry, settings.consent);
  const limit = settings.chunkRows;
  const statement = exportChunkStatement({
    type,
    ...conditions,
    since: job.spec.since ? new Date(job.spec.since) : undefined,
    transactionTime: job.transactionTime,
    afterRid: progress.afterRid,
    limit,
  });
  const rows = await auditIndexMovedFirst(tx).query<{ rid: string; bytes: number | null }>(statement.sql, statement.params);
  const exported = rows.filter((row): row is { rid: string; bytes: number } => row.bytes !== null);
  await writeLines(tx, job.id, progress, 'file', { kind: 'output', type }, lineSizes(exported, job.spec, type), settings.fileBytes);
  if (conditions.consent) await recordPatients(tx, job.id, type, exported.map((row) => row.rid));
  if (job.spec.includeAssociatedData?.includes(LATEST_PROVENANCE)) await latestProvenance(tx, job, progress, exported, caller, settings);
  if (moveOn(progress, rows, limit)) await closeFile(tx, job.id, progress, 'file');
}

/**
 * The lines of exported rows, by rid, with their lengths: the stored JSON text's, or with `_elements` at most that
 * plus the SUBSETTED tag (the download shapes them: server/export/engine/download.ts), so a file cut by these
 * lengths stays within its limit.
 */
function lineSizes(rows: ReadonlyArray<{ rid: string; bytes: number }>, spec: ExportSpec, type: string): FileLine[] {
  const extra = elementsFor(spec.elements, type) ? SUBSETTED_ALLOWANCE : 0;
  return rows.map((row) => ({ rid: row.rid, bytes: Number(row.bytes) + extra }));
}

/**
 * The latest Provenance of each of `exported`, written to the job's Provenance file, each Provenance once however
 * many exported resources it is the latest of. Decided as the caller's search of Provenance would be; a caller who
 * may not search Provenance gets none.
 */
async function latestProvenance(
  tx: Database,
  job: StoredJob,
  progress: JobProgress,
  exported: ReadonlyArray<{ rid: string }>,
  caller: Caller,
  settings: ChunkSettings,
): Promise<void> {
  if (!exported.length) return;
  let conditions;
  try {
    conditions = typeConditions(caller, { ...job.spec, level: 'system', typeFilters: undefined }, 'Provenance', settings.registry, settings.consent);
  } catch (error) {
    if (error instanceof FhirError) return;
    throw error;
  }
  const statement = latestProvenanceStatement({ targets: exported.map((row) => row.rid), access: conditions.access, consent: conditions.consent, transactionTime: job.transactionTime });
  const rows = await tx.query<{ rid: string; bytes: number }>(statement.sql, statement.params);
  const fresh = await firstProvenance(tx, job.id, rows.map((row) => row.rid));
  const lines = lineSizes(rows.filter((row) => fresh.has(row.rid)), job.spec, 'Provenance');
  await writeLines(tx, job.id, progress, 'provenanceFile', { kind: 'output', type: 'Provenance' }, lines, settings.fileBytes);
}

/**
 * One chunk of a `_since` export's deletes of `type`: one line, a transaction Bundle of its DELETE entries. A
 * deleted resource has no index left to decide access, consent, a `_typeFilter` or a compartment on, so deletes
 * are listed only of types the caller searches unrestricted and, for a partner, only of types that belong to no
 * patient (consent.ts `heldToPatients`); at patient and
 * group level only of the exported Patients themselves (docs/BULK.md).
 */
async function deletedChunk(tx: Database, job: StoredJob, progress: JobProgress, type: string, caller: Caller, settings: ChunkSettings): Promise<void> {
  const conditions = typeConditions(caller, job.spec, type, settings.registry, settings.consent);
  const system = job.spec.level === 'system';
  const decidable =
    tablesFor(type) === CLINICAL_TABLES && !conditions.access?.[type] && !(conditions.consent && heldToPatients(type)) && (system || type === 'Patient');
  if (!decidable) {
    moveOn(progress, [], 1);
    return;
  }
  const limit = settings.chunkRows;
  const statement = deletedChunkStatement({
    type,
    since: new Date(job.spec.since!),
    transactionTime: job.transactionTime,
    afterRid: progress.afterRid,
    limit,
    ids: system ? undefined : job.spec.patients,
  });
  const rows = await tx.query<{ rid: string; id: string | null }>(statement.sql, statement.params);
  const deleted = rows.flatMap((row) => (row.id === null ? [] : [{ type, id: row.id }]));
  if (deleted.length) await writeLines(tx, job.id, progress, 'file', { kind: 'deleted', type: 'Bundle' }, [{ text: JSON.stringify(deletedBundle(deleted)) }], settings.fileBytes);
  moveOn(progress, rows, limit);
}
