import type { Reference } from 'fhir/r4';

/**
 * What a bulk export request disclosed, as its operation tells the audit trail (FhirContext.auditing): the
 * request's AuditEvent is then shaped as IHE BALP's export (server/audit/export-events.ts) instead of a plain
 * RESTful one. Ids and counts only, never content.
 */
export interface ExportDisclosure {
  step: ExportStep;
  job: string;
  /** Kick-off: the request as the manifest gives it (the kick-off URL). */
  request?: string;
  /** The job's resource types. */
  types?: string[];
  /** Status: the poll answered the complete manifest (the export is disclosed). */
  complete?: boolean;
  /** Download: the file. */
  file?: { number: number; type: string; count: number };
  /** The patients a restricted (consent-gated) export contained. */
  patients?: Reference[];
}

/** The four requests of an export: kick-off, status poll, file download, cancel. */
export type ExportStep = 'kick-off' | 'status' | 'download' | 'cancel';
