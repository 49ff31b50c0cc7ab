import type { ExportFile, ExportJob } from './model.js';

/** One file of the manifest: its type, its absolute URL, how many resources it holds. */
export interface ManifestEntry {
  type: string;
  url: string;
  count: number;
}

/** The complete-status response of Bulk Data Access 2.0.0 (not a FHIR resource: `application/json`). */
export interface ExportManifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: true;
  output: ManifestEntry[];
  /** Only for a `_since` export: the transaction Bundles of DELETE entries. */
  deleted?: ManifestEntry[];
  error: ManifestEntry[];
}

/** A file's URL: `[base]/$export-file/[job]/[number]`. */
export function fileUrl(baseUrl: string, job: string, number: number): string {
  return `${baseUrl}/$export-file/${encodeURIComponent(job)}/${number}`;
}

/**
 * The manifest of a complete job. Downloads need the same kind of bearer token as the kick-off
 * (`requiresAccessToken`); `deleted` is there, possibly empty, exactly when `_since` was asked.
 */
export function manifestOf(job: ExportJob, baseUrl: string): ExportManifest {
  const entries = (kind: ExportFile['kind']) =>
    job.files.filter((file) => file.kind === kind).sort((a, b) => a.number - b.number).map((file): ManifestEntry => ({ type: file.type, url: fileUrl(baseUrl, job.id, file.number), count: file.count }));
  return {
    transactionTime: job.transactionTime,
    request: job.request,
    requiresAccessToken: true,
    output: entries('output'),
    ...(job.spec.since !== undefined ? { deleted: entries('deleted') } : {}),
    error: entries('error'),
  };
}
