import type { Reference } from 'fhir/r4';

/**
 * The shapes of Bulk Data export (issue 21, FHIR Bulk Data Access 2.0.0, docs/BULK.md): what a kick-off asks for
 * once checked, what a job is, its files, and what the engine that runs jobs offers the operations. Types only.
 * `server/bulk/` is the specification's side and pure (like `server/subscriptions/`): these types, the kick-off's
 * parameters, the manifest; storage (`server/store/bulk-*.ts`), the engine (`server/export/engine/`) and the
 * operations (`server/export/operations/`) build on it.
 */

/** `[base]/$export`, `[base]/Patient/$export`, `[base]/Group/[id]/$export`. */
export type ExportLevel = 'system' | 'patient' | 'group';

/**
 * Who started a job: its owner, the only one who may see, download or cancel it (anyone else: 404), and what the
 * engine rebuilds the caller from when it runs the job (server/access/callers.ts), so the export is decided as a
 * search with the same token would be: the scopes as granted at kick-off, the role and organization as they are now.
 */
export interface ExportOwner {
  kind: 'system' | 'user' | 'unrestricted';
  clientId?: string;
  userId?: string;
  /** The token's scopes at kick-off, as written (resource scopes only). */
  scopes: string[];
}

/** A kick-off's parameters, checked (server/bulk/parameters.ts). Everything the engine needs to run the job. */
export interface ExportSpec {
  level: ExportLevel;
  /** The types to export, in the order they are exported; already checked against the caller's scopes. */
  types: string[];
  /** `_since`, an instant (ISO 8601 with time zone): only resources changed after it, and the deletes after it. */
  since?: string;
  /** `_elements`: top-level element names, per type (`*` for every type); exported resources get the SUBSETTED tag. */
  elements?: Record<string, string[]>;
  /** `_typeFilter`: per type, search queries (each as `name=value` pairs); a resource matching any one is exported. */
  typeFilters?: Record<string, Array<Record<string, string[]>>>;
  /** Patient and group level: only these patients' compartments (`patient` parameter, or the Group's members). */
  patients?: string[];
  /** Group level: the Group the members came from. */
  group?: string;
  /** `includeAssociatedData`: `LatestProvenanceResources` adds the latest Provenance of each exported resource. */
  includeAssociatedData?: string[];
  /** `_outputFormat` as asked (all spellings mean NDJSON). */
  outputFormat: string;
}

export type JobState = 'accepted' | 'running' | 'complete' | 'failed' | 'cancelled';

/** One exported file: NDJSON of one type (`output`), DELETE entries (`deleted`), or OperationOutcomes (`error`). */
export interface ExportFile {
  /** Its number within the job: the file URL is `[base]/$export-file/[job]/[number]`. */
  number: number;
  kind: 'output' | 'deleted' | 'error';
  /** The resource type the file holds (`Bundle` for deleted, `OperationOutcome` for error). */
  type: string;
  /** Resources (lines) in the file. */
  count: number;
  bytes: number;
}

export interface ExportJob {
  /** Random, unguessable (UUID v4). */
  id: string;
  owner: ExportOwner;
  spec: ExportSpec;
  /** The kick-off's URL, as the manifest's `request` gives it. */
  request: string;
  /** When the job started: the export holds everything committed by then and nothing after (docs/BULK.md). */
  transactionTime: string;
  state: JobState;
  /** 0–100 while running, for `X-Progress`. */
  progress: number;
  /** Files published so far: only complete files are ever listed. */
  files: ExportFile[];
  /** What a lenient kick-off ignored, and failures: OperationOutcome issues (the manifest's `error` file). */
  issues: Array<{ severity: 'error' | 'warning' | 'information'; code: string; diagnostics: string; expression?: string[] }>;
  /** When the job's files are removed (set once complete). */
  expires?: string;
  /** The patients a restricted (consent-gated) export contained, for its AuditEvents. */
  patients?: Reference[];
}

/**
 * What the operations ask of the engine (server/bulk/engine/). Every method takes the owner the request comes
 * from: a job of another owner is `undefined`, never an error, so it is a 404 like a job that does not exist.
 */
export interface BulkExports {
  /** Records the job and starts it; `transactionTime` is fixed here. */
  start(owner: ExportOwner, spec: ExportSpec, request: string, issues: ExportJob['issues']): Promise<ExportJob>;
  /** The job as it is now, or undefined (unknown, another's, cancelled, expired). */
  job(owner: ExportOwner, id: string): Promise<ExportJob | undefined>;
  /** Stops and removes the job and its files; false when there is no such job of this owner. */
  cancel(owner: ExportOwner, id: string): Promise<boolean>;
  /**
   * A complete file's lines, streamed in parts (memory bounded): each item one or more whole lines ending in a newline
   * (a stored part); undefined for no such file.
   */
  file(owner: ExportOwner, id: string, number: number): Promise<{ file: ExportFile; lines: AsyncIterable<string> } | undefined>;
  /**
   * Records a status poll and says whether it came too soon after the previous one (429 with Retry-After).
   * Returns the seconds to wait, or 0.
   */
  poll(owner: ExportOwner, id: string): Promise<number>;
}
