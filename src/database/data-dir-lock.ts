import { readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';

/** Another live process holds the embedded database: opening it too would split or corrupt it. */
export class EmbeddedDatabaseLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly lockFile: string,
    readonly holderPid: number | undefined,
  ) {
    const holder = holderPid === undefined ? 'another process that is opening it now' : `process ${holderPid}`;
    super(
      `the embedded database in ${dataDir} is in use by ${holder} (lock file ${lockFile}). ` +
        `One process at a time may open it: stop the service${holderPid === undefined ? '' : ` (PID ${holderPid})`} first, ` +
        `or set DATABASE_URL so the service and the command line share a Postgres database. ` +
        `If no such process is running this service, delete the lock file.`,
    );
    this.name = 'EmbeddedDatabaseLockedError';
  }
}

/** An empty lock file younger than this is being written by a process that is starting. */
const FRESH_MS = 5_000;

/**
 * An exclusive lock on a data directory: a file beside it holding the owner's PID, created
 * with O_EXCL. A lock whose PID is no longer running is stale and taken over (under a second
 * O_EXCL file, so two processes taking over at once cannot both win).
 */
export class DataDirLock {
  /** Lock files this process holds: opening one directory twice in a process is refused too. */
  private static readonly held = new Set<string>();
  private released = false;
  private readonly onExit = (): void => this.release();

  private constructor(readonly file: string) {
    DataDirLock.held.add(file);
    // A crash (uncaught error, process.exit) still frees the lock; a kill -9 leaves a stale one.
    process.once('exit', this.onExit);
  }

  static acquire(dataDir: string): DataDirLock {
    const file = `${dataDir}.lock`;
    if (DataDirLock.held.has(file)) throw new EmbeddedDatabaseLockedError(dataDir, file, process.pid);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (tryCreate(file)) return new DataDirLock(file);
      const holder = readHolder(file);
      if (holder === 'gone') continue;
      // Our own PID in a lock we do not hold was left by an earlier process (a container's PID 1 again).
      if (holder.pid !== undefined && holder.pid !== process.pid && isRunning(holder.pid)) {
        throw new EmbeddedDatabaseLockedError(dataDir, file, holder.pid);
      }
      if (holder.pid === undefined && Date.now() - holder.mtimeMs < FRESH_MS) {
        throw new EmbeddedDatabaseLockedError(dataDir, file, undefined);
      }
      takeOver(dataDir, file, holder.content);
      return new DataDirLock(file);
    }
    throw new EmbeddedDatabaseLockedError(dataDir, file, undefined);
  }

  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    DataDirLock.held.delete(this.file);
    process.removeListener('exit', this.onExit);
    try {
      if (readFileSync(this.file, 'utf8').trim() === String(process.pid)) unlinkSync(this.file);
    } catch {
      // already gone
    }
  }
}

function tryCreate(file: string): boolean {
  try {
    writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function readHolder(file: string): { content: string; pid: number | undefined; mtimeMs: number } | 'gone' {
  try {
    const content = readFileSync(file, 'utf8');
    const { mtimeMs } = statSync(file);
    const pid = /^\d+$/.test(content.trim()) ? Number(content.trim()) : undefined;
    return { content, pid: pid !== undefined && pid > 0 ? pid : undefined, mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
}

/** True when a process with this PID exists (EPERM: it exists but belongs to another user). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Replaces a stale lock file; only one process at a time may do so. */
function takeOver(dataDir: string, file: string, staleContent: string): void {
  const guard = `${file}.takeover`;
  if (!tryCreate(guard)) {
    const holder = readHolder(guard);
    // A taker that died mid-way (microseconds of work) leaves its guard behind: clear it once it is old.
    if (holder !== 'gone' && Date.now() - holder.mtimeMs > FRESH_MS) unlinkSync(guard);
    throw new EmbeddedDatabaseLockedError(dataDir, file, holder === 'gone' ? undefined : holder.pid);
  }
  try {
    const now = readHolder(file);
    if (now !== 'gone') {
      // Someone else replaced the stale lock between our read and the guard: theirs stands.
      if (now.content !== staleContent) throw new EmbeddedDatabaseLockedError(dataDir, file, now.pid);
      unlinkSync(file);
    }
    if (!tryCreate(file)) throw new EmbeddedDatabaseLockedError(dataDir, file, undefined);
  } finally {
    unlinkSync(guard);
  }
}
