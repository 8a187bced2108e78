import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const MAIN = resolve('dist/src/main.js');
export const CLI = resolve('dist/src/cli/main.js');

/**
 * Deadlines for a process, not expectations of its speed: a first embedded start (initdb in
 * WASM, then the migrations) took 24 s on a busy 2-core machine. Readiness is probed.
 */
export const START_DEADLINE_MS = 90_000;
export const EXIT_DEADLINE_MS = 90_000;

/** The built service (`npm test` builds first) started exactly as `npm start` does. */
export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  /** stdout and stderr as they arrived (the order between the two pipes is not kept). */
  output: () => string;
  stderr: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

export interface ProcessRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function assertBuilt(): void {
  for (const file of [MAIN, CLI]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run "npm run build" (npm test does)`);
  }
}

/**
 * Node with only PATH and the given variables, in an empty working directory (so a
 * developer's `.env` in the repository is not read; relative paths are resolved already).
 */
function spawnNode(file: string, args: string[], env: Record<string, string>): ChildProcess {
  assertBuilt();
  return spawn(process.execPath, [file, ...args], {
    env: { PATH: process.env.PATH, ...env },
    cwd: mkdtempSync(join(tmpdir(), 'otp-cwd-')),
  });
}

/** Runs a built entry point to its exit, collecting its output. */
function runToEnd(file: string, args: string[], env: Record<string, string>): Promise<ProcessRun> {
  const child = spawnNode(file, args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} ${args.join(' ')} did not exit within ${EXIT_DEADLINE_MS} ms:\n${stdout}\n${stderr}`));
    }, EXIT_DEADLINE_MS);
    child.once('exit', (status) => {
      clearTimeout(timer);
      resolvePromise({ status, stdout, stderr });
    });
  });
}

/** The service run to its exit (for starts that must be refused). */
export function runToExit(env: Record<string, string>): Promise<ProcessRun> {
  return runToEnd(MAIN, [], env);
}

/** One command of the operator command line (`npm run cli -- …`). */
export function runCli(args: string[], env: Record<string, string>): Promise<ProcessRun> {
  return runToEnd(CLI, args, env);
}

/**
 * Starts the service and resolves once it is ready: it has printed the address it listens on
 * and GET /health answers 200 there.
 */
export async function startService(
  env: Record<string, string>,
  deadlineMs = START_DEADLINE_MS,
): Promise<ServiceProcess> {
  const child = spawnNode(MAIN, [], { PORT: '0', ...env });
  let output = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolvePromise) => child.once('exit', (code) => resolvePromise(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const deadline = Date.now() + deadlineMs;
  const fail = (reason: string): Error => {
    child.kill('SIGKILL');
    return new Error(`service ${reason}:\n${output}`);
  };
  let url: string | undefined;
  for (;;) {
    if (exitCode !== undefined) throw fail(`exited with ${exitCode} before it was ready`);
    if (Date.now() > deadline) throw fail(`was not ready within ${deadlineMs} ms`);
    url ??= /^ {2}URL: +(http:\/\/\S+)$/m.exec(output)?.[1]; // the start-up notice, at any LOG_LEVEL
    if (url && (await healthy(url))) break;
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 100));
  }
  return {
    child,
    url,
    output: () => output,
    stderr: () => stderr,
    stop: async (signal = 'SIGTERM') => {
      child.kill(signal);
      return exited;
    },
  };
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) })).status === 200;
  } catch {
    return false;
  }
}
