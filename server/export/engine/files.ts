import type { ExportFile } from '../../bulk/model.js';
import type { Database } from '../../store/database.js';
import { appendPart, completeFile, type JobProgress, type OpenFile, openFile, type PartContent } from '../../store/bulk-jobs.js';

/** Which of the job's open files lines go to: the current type's, or the Provenance written alongside. */
export type FileSlot = 'file' | 'provenanceFile';

/**
 * One line of a file: an exported resource by its rid (its text read at the download), with the length its line
 * will have, or a line of text of its own.
 */
export type FileLine = RowLine | TextLine;
interface RowLine {
  rid: string;
  bytes: number;
}
interface TextLine {
  text: string;
}

/**
 * Appends lines to the job's open file in `slot`, within the chunk's transaction: one part per file touched. A file
 * is cut (made complete, and a new one opened) before a line that would take it past `fileBytes`, so no file is
 * larger unless one line alone is. `lines` are all of one kind (rids, or text). `progress` is updated in place (the
 * open file, the next file number).
 */
export async function writeLines(
  tx: Database,
  jobId: string,
  progress: JobProgress,
  slot: FileSlot,
  file: { kind: ExportFile['kind']; type: string },
  lines: readonly FileLine[],
  fileBytes: number,
): Promise<void> {
  let open: OpenFile | undefined = progress[slot];
  let buffer: FileLine[] = [];
  let bytes = 0;
  const flush = async () => {
    if (!open || !buffer.length) return;
    await appendPart(tx, jobId, open, partOf(buffer), buffer.length, bytes);
    open = { ...open, count: open.count + buffer.length, bytes: open.bytes + bytes, parts: open.parts + 1 };
    buffer = [];
    bytes = 0;
  };
  for (const line of lines) {
    // Each line ends in a newline.
    const size = ('rid' in line ? line.bytes : Buffer.byteLength(line.text)) + 1;
    if (open && open.count + buffer.length > 0 && open.bytes + bytes + size > fileBytes) {
      await flush();
      await completeFile(tx, jobId, open.number);
      open = undefined;
    }
    if (!open) {
      open = { number: progress.nextFile++, count: 0, bytes: 0, parts: 0 };
      await openFile(tx, jobId, open.number, file.kind, file.type);
    }
    buffer.push(line);
    bytes += size;
  }
  await flush();
  progress[slot] = open;
}

function partOf(lines: readonly FileLine[]): PartContent {
  const rows = lines.filter((line): line is RowLine => 'rid' in line);
  const texts = lines.filter((line): line is TextLine => 'text' in line);
  if (rows.length && texts.length) throw new Error('a part holds rows or text, not both');
  return rows.length ? { rids: rows.map((row) => row.rid) } : { data: texts.map((line) => `${line.text}\n`).join('') };
}

/** Makes the open file in `slot` complete (listed from now on), if there is one. */
export async function closeFile(tx: Database, jobId: string, progress: JobProgress, slot: FileSlot): Promise<void> {
  const open = progress[slot];
  if (open) await completeFile(tx, jobId, open.number);
  progress[slot] = undefined;
}
