import { elementsFor, subsetted } from '../../bulk/elements.js';
import { exportContentStatement } from '../../search/sql/export.js';
import type { PartContent, StoredJob } from '../../store/bulk-jobs.js';
import type { Database } from '../../store/database.js';
import { readAhead } from './read-ahead.js';

/**
 * Rids read per statement: a chunk's part (up to BULK_EXPORT_CHUNK_ROWS, ~9 MB of text at 10,000) is read in
 * pieces of this many, so a download holds about a megabyte at a time however large the chunks.
 */
const READ_ROWS = 1000;

/** Pieces of a download read at once (server/export/engine/read-ahead.ts). */
const READ_WINDOW = 3;

/**
 * A file's NDJSON text for a download, a piece at a time (up to READ_ROWS lines in one string, each ending in a
 * newline; server/http/send.ts writes each in one `write`), the next pieces read while the current one is written.
 * A part of rids is read now, each resource as its version as of the job's transaction time (the one the chunk
 * measured), shaped by `_elements` when asked; a part of text is sent as it is.
 */
export async function* fileText(db: Database, job: StoredJob, type: string, parts: AsyncIterable<PartContent>): AsyncIterable<string> {
  // A piece can be empty (its resources gone since: an AuditEvent month dropped); an empty write would be a blank line.
  for await (const text of readAhead(pieces(db, job, type, parts), READ_WINDOW)) if (text) yield text;
}

async function* pieces(db: Database, job: StoredJob, type: string, parts: AsyncIterable<PartContent>): AsyncIterable<() => Promise<string>> {
  const elements = elementsFor(job.spec.elements, type);
  for await (const part of parts) {
    if (!('rids' in part)) {
      const { data } = part;
      yield async () => (!data || data.endsWith('\n') ? data : `${data}\n`);
      continue;
    }
    for (let start = 0; start < part.rids.length; start += READ_ROWS) {
      const rids = part.rids.slice(start, start + READ_ROWS);
      yield () => readPiece(db, job, type, rids, elements);
    }
  }
}

async function readPiece(db: Database, job: StoredJob, type: string, rids: readonly string[], elements: string[] | undefined): Promise<string> {
  const statement = exportContentStatement({ type, rids, transactionTime: job.transactionTime, joined: !elements });
  const rows = await db.query<{ text: string | null }>(statement.sql, statement.params);
  if (!elements) return rows[0]?.text ? `${rows[0].text}\n` : '';
  return rows.map((row) => (row.text === null ? '' : `${JSON.stringify(subsetted(JSON.parse(row.text), elements))}\n`)).join('');
}
