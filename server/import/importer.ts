import type { Bundle, OperationOutcome } from 'fhir/r4';
import { rewriteReferences } from '../rest/bundle/references.js';
import { bundlesOf } from './sources.js';

/** Sends one transaction Bundle: to a server over HTTP, or to the interactions in this process. */
export type SendTransaction = (bundle: Bundle) => Promise<{ ok: true; response: Bundle } | { ok: false; status: number; outcome: OperationOutcome }>;

export interface ImportProgress {
  file: string;
  filesDone: number;
  filesTotal: number;
  resources: number;
}

export interface ImportFailure {
  file: string;
  status?: number;
  message: string;
}

export interface ImportSummary {
  files: number;
  failed: ImportFailure[];
  /** Resources written (created or updated), in all and per type. */
  resources: number;
  byType: Record<string, number>;
  transactions: number;
  seconds: number;
}

/**
 * Imports files of transaction Bundles, NDJSON or single resources, one transaction per Bundle. A `urn:uuid:`
 * reference that names an entry of an earlier file (a Group of patients imported before it) is pointed at
 * the resource that entry became. A file that fails before any of it was written is tried again after the
 * others, while that makes progress: files may arrive in any order, the one they depend on later.
 * `concurrency` files are in flight at once (each its own transactions): the server's work and the database's then
 * overlap, on a machine with more than one core.
 */
export async function importFiles(
  files: string[],
  send: SendTransaction,
  onProgress?: (progress: ImportProgress) => void,
  { concurrency = 1 }: { concurrency?: number } = {},
): Promise<ImportSummary> {
  const started = Date.now();
  const known = new Map<string, string>();
  const summary: ImportSummary = { files: files.length, failed: [], resources: 0, byType: {}, transactions: 0, seconds: 0 };
  let filesDone = 0;
  const done = (file: string, failure?: ImportFailure) => {
    if (failure) summary.failed.push(failure);
    filesDone++;
    onProgress?.({ file, filesDone, filesTotal: files.length, resources: summary.resources });
  };
  let queue = files;
  for (;;) {
    const retry: { file: string; failure: ImportFailure }[] = [];
    let progressed = false;
    let next = 0;
    const worker = async () => {
      while (next < queue.length) {
        const file = queue[next++];
        const result = await importFile(file, send, known, summary);
        if (result.failure && !result.wroteAny) {
          retry.push({ file, failure: result.failure });
        } else {
          progressed ||= result.wroteAny;
          done(file, result.failure);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, worker));
    if (!retry.length || !progressed) {
      for (const { file, failure } of retry) done(file, failure);
      break;
    }
    // Retried in the order given, so a run's outcome does not depend on which file finished first.
    queue = queue.filter((file) => retry.some((r) => r.file === file));
  }
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}

async function importFile(
  file: string,
  send: SendTransaction,
  known: Map<string, string>,
  summary: ImportSummary,
): Promise<{ wroteAny: boolean; failure?: ImportFailure }> {
  let wroteAny = false;
  try {
    for await (const bundle of bundlesOf(file)) {
      pointAtEarlierFiles(bundle, known);
      const result = await send(bundle);
      if (!result.ok) {
        const message = result.outcome.issue?.map((issue) => issue.diagnostics ?? issue.code).join('; ') ?? `HTTP ${result.status}`;
        return { wroteAny, failure: { file, status: result.status, message } };
      }
      wroteAny = true;
      summary.transactions++;
      record(bundle, result.response, known, summary);
      const refused = refusedBatchEntries(result.response);
      if (refused) return { wroteAny, failure: { file, message: refused } };
    }
    return { wroteAny };
  } catch (error) {
    return { wroteAny, failure: { file, message: error instanceof Error ? error.message : String(error) } };
  }
}

/** `urn:uuid:` references to no entry of this Bundle but to one of an earlier file become that resource's `Type/id`. */
function pointAtEarlierFiles(bundle: Bundle, known: Map<string, string>): void {
  const own = new Set((bundle.entry ?? []).flatMap((entry) => (entry.fullUrl ? [entry.fullUrl] : [])));
  for (const entry of bundle.entry ?? []) {
    rewriteReferences(entry.resource, (reference) => (own.has(reference) ? undefined : known.get(reference)));
  }
}

/** A batch answers 200 even when entries fail: those entries, each with its status and reason, or undefined. */
function refusedBatchEntries(response: Bundle): string | undefined {
  const refused = (response.entry ?? []).flatMap((entry, index) => {
    const status = entry.response?.status ?? '';
    if (/^[23]/.test(status)) return [];
    const outcome = entry.response?.outcome as OperationOutcome | undefined;
    const reason = outcome?.issue?.map((issue) => issue.diagnostics ?? issue.code).join('; ') ?? '';
    return [`entry ${index}: ${status} ${reason}`.trim()];
  });
  return refused.length ? `batch entries refused: ${refused.join(' | ')}` : undefined;
}

/** Counts what was written and remembers what each fullUrl became, from the transaction-response. */
function record(bundle: Bundle, response: Bundle, known: Map<string, string>, summary: ImportSummary): void {
  (bundle.entry ?? []).forEach((entry, index) => {
    const answer = response.entry?.[index]?.response;
    if (!answer || !/^20[01]/.test(answer.status) || entry.request?.method === 'GET' || entry.request?.method === 'DELETE') return;
    const type = entry.resource?.resourceType ?? entry.request?.url.split(/[/?]/)[0] ?? 'unknown';
    summary.resources++;
    summary.byType[type] = (summary.byType[type] ?? 0) + 1;
    const location = answer.location?.replace(/\/_history\/.*$/, '');
    if (entry.fullUrl && location) known.set(entry.fullUrl, location);
  });
}
