import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirLock, EmbeddedDatabaseLockedError } from './data-dir-lock.js';

const dataDir = (): string => join(mkdtempSync(join(tmpdir(), 'otp-lock-')), 'pglite');
/** The PID of a process that has exited. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid!;

function refusal(dir: string): EmbeddedDatabaseLockedError {
  try {
    DataDirLock.acquire(dir).release();
  } catch (error) {
    return error as EmbeddedDatabaseLockedError;
  }
  throw new Error('expected the lock to be refused');
}

describe(DataDirLock.name, () => {
  it('writes its PID into a lock file beside the directory and removes it on release', () => {
    const dir = dataDir();
    const lock = DataDirLock.acquire(dir);
    expect(readFileSync(`${dir}.lock`, 'utf8').trim()).toBe(String(process.pid));
    lock.release();
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });

  it('refuses while a live process holds it, naming the PID, what to do, and the lock file', () => {
    const dir = dataDir();
    writeFileSync(`${dir}.lock`, `${process.ppid}\n`); // the test runner: alive
    const error = refusal(dir);
    expect(error).toBeInstanceOf(EmbeddedDatabaseLockedError);
    expect(error.holderPid).toBe(process.ppid);
    expect(error.message).toContain(`in use by process ${process.ppid}`);
    expect(error.message).toContain('stop the service');
    expect(error.message).toContain('set DATABASE_URL');
    expect(error.message).toContain(`${dir}.lock`);
    expect(readFileSync(`${dir}.lock`, 'utf8').trim()).toBe(String(process.ppid)); // left alone
  });

  it('refuses a second open of the same directory within one process', () => {
    const dir = dataDir();
    const lock = DataDirLock.acquire(dir);
    try {
      expect(refusal(dir).holderPid).toBe(process.pid);
    } finally {
      lock.release();
    }
  });

  it('takes over a lock whose process is gone', () => {
    const dir = dataDir();
    writeFileSync(`${dir}.lock`, `${deadPid()}\n`);
    const lock = DataDirLock.acquire(dir);
    expect(readFileSync(`${dir}.lock`, 'utf8').trim()).toBe(String(process.pid));
    lock.release();
  });

  it('takes over a lock holding its own PID (left by an earlier process with the same PID, as in a container)', () => {
    const dir = dataDir();
    writeFileSync(`${dir}.lock`, `${process.pid}\n`);
    DataDirLock.acquire(dir).release();
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });

  it('treats an unreadable lock as being written when fresh, and as stale when old', () => {
    const dir = dataDir();
    writeFileSync(`${dir}.lock`, '');
    expect(refusal(dir).holderPid).toBeUndefined();
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${dir}.lock`, old, old);
    DataDirLock.acquire(dir).release();
  });

  it('does not remove a lock another process took after it', () => {
    const dir = dataDir();
    const lock = DataDirLock.acquire(dir);
    writeFileSync(`${dir}.lock`, `${process.ppid}\n`);
    lock.release();
    expect(readFileSync(`${dir}.lock`, 'utf8').trim()).toBe(String(process.ppid));
  });
});
