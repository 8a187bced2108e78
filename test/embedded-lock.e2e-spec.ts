import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startService } from './support/service-process.js';

describe('the embedded database is opened by one process at a time', () => {
  it(
    'refuses the command line while the service holds the data directory, and lets it in once the service stops',
    { timeout: 300_000 },
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'otp-lock-'));
      const env = { DATA_DIR: dataDir, NODE_ENV: 'development', LOG_LEVEL: 'warn' };
      const lockFile = join(dataDir, 'pglite.lock');

      const service = await startService(env);
      const pid = service.child.pid!;
      expect(readFileSync(lockFile, 'utf8').trim()).toBe(String(pid));

      const refused = await runCli(['keys:add', 'while-running', '--max-uses', '3'], env);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toContain(`is in use by process ${pid}`);
      expect(refused.stderr).toContain('stop the service');
      expect(refused.stderr).toContain('set DATABASE_URL');
      expect(refused.stdout).toBe('');

      expect(await service.stop('SIGTERM')).toBe(0);
      expect(existsSync(lockFile)).toBe(false); // released on a clean shutdown

      const listed = await runCli(['keys:list', '--json'], env);
      expect(listed.status, listed.stderr).toBe(0);
      expect(JSON.parse(listed.stdout)).toMatchObject({ items: [] }); // the refused command wrote nothing
      expect(existsSync(lockFile)).toBe(false);
    },
  );

  it('takes over a lock file left by a process that is gone', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'otp-lock-'));
    const env = { DATA_DIR: dataDir, NODE_ENV: 'development', LOG_LEVEL: 'warn' };
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(dataDir, 'pglite.lock'), `${deadPid}\n`);

    const run = await runCli(['keys:list', '--json'], env);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('in use by');
    expect(existsSync(join(dataDir, 'pglite.lock'))).toBe(false);
  });
});
