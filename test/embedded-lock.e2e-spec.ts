import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startService } from './support/service-process.js';

describe('the embedded database is opened by one process at a time', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'otp-lock-'));
  const env = { DATA_DIR: dataDir, NODE_ENV: 'development', LOG_LEVEL: 'warn' };
  const lockFile = join(dataDir, 'pglite.lock');

  it(
    'refuses the command line while the service holds the data directory, naming the PID and what to do',
    { timeout: 300_000 },
    async () => {
      const service = await startService(env);
      try {
        const pid = service.child.pid!;
        expect(readFileSync(lockFile, 'utf8').trim()).toBe(String(pid));

        const refused = await runCli(['keys:add', 'while-running', '--max-uses', '3'], env);
        expect(refused.status).not.toBe(0);
        expect(refused.stderr).toContain(`is in use by process ${pid}`);
        expect(refused.stderr).toContain('stop the service');
        expect(refused.stderr).toContain('set DATABASE_URL');
        expect(refused.stdout).toBe('');
      } finally {
        expect(await service.stop('SIGTERM')).toBe(0);
      }
      expect(existsSync(lockFile)).toBe(false); // released on a clean shutdown
    },
  );

  it('lets the command line in after the service, taking over a lock left by a process that is gone', async () => {
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(lockFile, `${deadPid}\n`);

    const listed = await runCli(['keys:list', '--json'], env);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stderr).not.toContain('in use by');
    expect(JSON.parse(listed.stdout)).toMatchObject({ items: [] }); // the refused command wrote nothing
    expect(existsSync(lockFile)).toBe(false);
  });
});
