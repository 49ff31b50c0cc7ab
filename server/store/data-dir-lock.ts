import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The embedded database belongs to one process: PGlite keeps its pages in this process's memory and writes them
 * to `DATA_DIR` as it pleases, so two processes on one folder silently overwrite each other's writes. A lock file in
 * the folder names the process that holds it; a second server, import, reindex or purge is refused before it opens
 * anything. PostgreSQL (`DATABASE_URL`) needs no such lock: the database server arbitrates between its clients.
 *
 * Every change of the lock file is atomic: a holder's record is written whole to a private file, then `link`ed to
 * the lock's name (which fails if the name exists) or `rename`d over a stale one. A stale lock (its process gone,
 * or its process id reused by another program, told apart by the start time in /proc/<pid>/stat) may only be
 * replaced by the one process that first claims it, with a claim file named after that stale record's nonce
 * (itself a lock of the same kind, so a claimant killed mid-way is taken over the same way). Since no one else
 * may remove that record, the claimant's rename replaces exactly the stale record and nothing newer.
 */

export const LOCK_FILE = 'ccp-exchange.lock';

/** What a lock file records about its holder. */
export interface LockHolder {
  pid: number;
  /** Start of the process in clock ticks since boot (/proc/<pid>/stat field 22), where the system tells it. */
  startTicks?: number;
  /** When the process started (ISO 8601), for people. */
  startedAt: string;
  host: string;
  command: string;
  /** Unique per taking of the lock: what a stale lock's claim file is named after. */
  nonce: string;
}

/** A held lock: release it when the database closes. Releasing twice is harmless. */
export interface DataDirLock {
  readonly file: string;
  readonly holder: LockHolder;
  release(): void;
}

/** Refusal: another live process holds the folder. Its message names that process. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
    readonly takingOver = false,
  ) {
    super(describeRefusal(dataDir, holder, takingOver));
    this.name = 'DataDirLockedError';
  }
}

type Attempt = { won: true } | { won: false; holder: LockHolder; takingOver: boolean };

/**
 * Takes the lock on `dataDir` (created if missing) for this process, or throws `DataDirLockedError` naming the
 * holder. The lock is released by `release()` and, failing that, when the process exits normally.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  const holder = currentHolder();
  const attempt = take(file, holder);
  if (!attempt.won) throw new DataDirLockedError(dataDir, attempt.holder, attempt.takingOver);

  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.removeListener('exit', release);
    // Only our own record is ours to remove: were it replaced (which only happens when we were judged dead),
    // the file now belongs to someone else.
    if (readHolder(file)?.nonce === holder.nonce) unlinkQuietly(file);
  };
  process.on('exit', release);
  return { file, holder, release };
}

/** The lock's holder as recorded, or undefined when there is no lock file (or it is not a lock record). */
export function readHolder(file: string): LockHolder | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (isCode(error, 'ENOENT')) return undefined;
    throw error;
  }
  return parseHolder(text);
}

/** This process as a lock holder. */
export function currentHolder(): LockHolder {
  return {
    pid: process.pid,
    startTicks: startTicks(process.pid),
    startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString(),
    host: os.hostname(),
    command: process.argv.map((arg) => path.basename(arg)).join(' '),
    nonce: randomBytes(12).toString('hex'),
  };
}

/**
 * Whether the recorded holder still runs. A holder on another host cannot be checked from here, so it counts as
 * alive (a data folder on a shared file system); the refusal says how to clear it by hand.
 */
export function holderAlive(holder: LockHolder): boolean {
  if (holder.host !== os.hostname()) return true;
  if (holder.pid === process.pid) return holder.startTicks === startTicks(process.pid);
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: the process exists, under another user.
    if (!isCode(error, 'EPERM')) return false;
  }
  // The process id is taken; by our holder only if it started when the holder did (ids are reused).
  const ticks = startTicks(holder.pid);
  return holder.startTicks === undefined || ticks === undefined || ticks === holder.startTicks;
}

function take(file: string, holder: LockHolder): Attempt {
  const staged = stage(file, holder);
  try {
    // A few rounds: between reading a stale lock and claiming it, another process may release or replace it.
    for (let round = 0; round < 10; round++) {
      try {
        fs.linkSync(staged, file);
        return { won: true };
      } catch (error) {
        if (!isCode(error, 'EEXIST')) throw error;
      }
      const found = readHolder(file);
      if (found === undefined) {
        if (fs.existsSync(file)) throw new Error(`${file} is not a lock file of this server; remove it if no server runs on this folder`);
        continue; // released meanwhile
      }
      if (holderAlive(found)) return { won: false, holder: found, takingOver: false };

      // Stale: only the process holding the claim on this very record may replace it.
      const claimFile = `${file}.${found.nonce}`;
      const claim = take(claimFile, holder);
      if (!claim.won) {
        // The claim's holder has not replaced the stale record yet only if the record is still the lock: then it is
        // the one that will (no one else may). Otherwise it claimed too late, as we did, and the lock's new
        // holder is the one to name: look again.
        if (readHolder(file)?.nonce !== found.nonce) continue;
        return { won: false, holder: claim.holder, takingOver: true };
      }
      try {
        // Nobody but us can have removed the stale record now, so it is still the lock (checked all the same).
        if (readHolder(file)?.nonce !== found.nonce) continue;
        fs.renameSync(staged, file);
        return { won: true };
      } finally {
        unlinkQuietly(claimFile);
      }
    }
    throw new Error(`${file} kept changing while this process tried to take it`);
  } finally {
    unlinkQuietly(staged);
  }
}

/** The holder's record written whole to a private file beside the lock, ready to be linked or renamed. */
function stage(file: string, holder: LockHolder): string {
  const staged = `${file}.${holder.pid}.${randomBytes(6).toString('hex')}.tmp`;
  fs.writeFileSync(staged, `${JSON.stringify(holder)}\n`, { flag: 'wx', mode: 0o644 });
  return staged;
}

function parseHolder(text: string): LockHolder | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (!Number.isInteger(record.pid) || typeof record.nonce !== 'string' || !/^[0-9a-f]+$/.test(record.nonce)) return undefined;
  return {
    pid: record.pid as number,
    startTicks: Number.isInteger(record.startTicks) ? (record.startTicks as number) : undefined,
    startedAt: typeof record.startedAt === 'string' ? record.startedAt : 'an unknown time',
    host: typeof record.host === 'string' ? record.host : os.hostname(),
    command: typeof record.command === 'string' ? record.command : '',
    nonce: record.nonce,
  };
}

/** Field 22 of /proc/<pid>/stat, counted after the command name (which may itself hold spaces and parentheses). */
function startTicks(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isSafeInteger(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

function describeRefusal(dataDir: string, holder: LockHolder, takingOver: boolean): string {
  const who = `process ${holder.pid}${holder.command ? ` (${holder.command})` : ''}, started ${holder.startedAt}${holder.host !== os.hostname() ? ` on host ${holder.host}` : ''}`;
  const what = takingOver ? `is being taken over by ${who}` : `is in use by ${who}`;
  const hint =
    holder.host !== os.hostname()
      ? `If that process is gone, remove ${path.join(dataDir, LOCK_FILE)} by hand.`
      : 'Stop it first: the embedded database serves one process at a time (use --url with npm run import to load data into a running server).';
  return `The embedded database in ${dataDir} ${what}. ${hint}`;
}

function unlinkQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (error) {
    if (!isCode(error, 'ENOENT')) throw error;
  }
}

// Not `instanceof Error`: errors from Node's own modules may come from another realm (vm contexts, test runners).
function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === code;
}
