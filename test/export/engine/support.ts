import type { Bundle, Resource } from 'fhir/r4';
import type { ExportFile, ExportJob, ExportOwner, ExportSpec } from '../../../server/bulk/model.js';
import type { StepOutcome } from '../../../server/export/engine/chunk.js';
import type { BulkExportEngine } from '../../../server/export/engine/engine.js';

export const SERVER: ExportOwner = { kind: 'unrestricted', scopes: [] };

export const spec = (types: string[], extra: Partial<ExportSpec> = {}): ExportSpec => ({ level: 'system', types, outputFormat: 'application/fhir+ndjson', ...extra });

export interface Exported {
  job: ExportJob;
  /** Each file's lines as written, by file. */
  files: { file: ExportFile; lines: string[] }[];
  /** The output resources by `Type/id`. */
  output: Map<string, Resource>;
  /** `Type/id` of every DELETE entry. */
  deleted: string[];
}

/**
 * One chunk of the job. On PostgreSQL a job first waits for the transactions in progress at its start (any of the
 * shared server's): `waiting` is retried.
 */
export async function step(engine: BulkExportEngine, id: string): Promise<StepOutcome> {
  for (let i = 0; i < 500; i++) {
    const outcome = await engine.step(id);
    if (outcome !== 'waiting') return outcome;
    await sleep(10);
  }
  throw new Error(`job ${id} waited too long for its snapshot`);
}

/** Steps the job to its end (at most `maxSteps` chunks) and reads every file back through the engine. */
export async function finish(engine: BulkExportEngine, owner: ExportOwner, id: string, maxSteps = 500): Promise<Exported> {
  for (let i = 0; i < maxSteps; i++) {
    const outcome = await step(engine, id);
    if (outcome === 'complete' || outcome === 'failed') break;
    if (outcome === 'lost') throw new Error(`job ${id} lost`);
  }
  return read(engine, owner, id);
}

export async function read(engine: BulkExportEngine, owner: ExportOwner, id: string): Promise<Exported> {
  const job = (await engine.job(owner, id))!;
  const files: Exported['files'] = [];
  const output = new Map<string, Resource>();
  const deleted: string[] = [];
  for (const file of job.files) {
    const got = (await engine.file(owner, id, file.number))!;
    const lines: string[] = [];
    // Each item is a part of the file: whole lines, each ending in a newline.
    for await (const part of got.lines) lines.push(...part.split('\n').slice(0, -1));
    files.push({ file: got.file, lines });
    for (const line of lines) {
      const resource = JSON.parse(line) as Resource;
      if (file.kind === 'deleted') deleted.push(...((resource as Bundle).entry ?? []).map((entry) => entry.request!.url));
      else {
        const key = `${resource.resourceType}/${resource.id}`;
        if (output.has(key)) throw new Error(`${key} exported twice`);
        output.set(key, resource);
      }
    }
  }
  return { job, files, output, deleted };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
