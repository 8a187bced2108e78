import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditChainService } from '../src/audit/audit-chain.service.js';
import { loadConfig } from '../src/config/load-config.js';
import { SecretCipher } from '../src/crypto/secret-cipher.js';
import { decodeBase32 } from '../src/otp/base32.js';
import { createUser, TestUser, uniqueName } from './support/identity.js';
import { bootApp, TestApp, testEnv, testSecret } from './support/test-app.js';

const CLI = 'dist/src/cli/main.js';
const SAMPLE = 'test/fixtures/keys.sample.json';

interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe('operator command line', () => {
  // The CLI and the app share the test database and the key ring, as an operator's shell and the service do.
  const env = Object.fromEntries(
    Object.entries(testEnv({ LOG_LEVEL: 'warn' })).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  let t: TestApp;
  let admin: TestUser;
  let person: TestUser;
  let acmeKey: string;

  /** Runs the built CLI as an operator would (npm test builds first). */
  function cli(...args: string[]): Promise<CliRun> {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (npm test does)`);
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`cli ${args.join(' ')} did not finish:\n${stdout}\n${stderr}`));
      }, 30_000);
      child.once('exit', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr });
      });
    });
  }

  async function cliJson<T = Record<string, unknown>>(...args: string[]): Promise<T> {
    const run = await cli(...args, '--json');
    expect(run.status, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as T;
  }

  // The command line makes admin-space keys: an administrator reaches every one of them.
  const info = async (key: string, auth: Record<string, string> = admin.auth) =>
    (await t.http().post('/api/v1/keys/info').set(auth).send({ key })).body;

  beforeAll(async () => {
    t = await bootApp(env);
    admin = await createUser(t, { role: 'admin' });
    person = await createUser(t);
    const issued = await t
      .http()
      .post('/api/v1/api-keys')
      .set(admin.auth)
      .send({ name: 'cli-test', client_id: 'acme', scopes: ['keys:use', 'keys:admin'] });
    acmeKey = issued.body.key;
  });
  afterAll(() => t.close());

  it('adds, limits, resets, shows and deletes a key, with the API seeing each change', async () => {
    const name = uniqueName('cli');
    const added = await cli('keys:add', name, '--max-uses', '2', '--assign', person.username);
    expect(added.status, added.stderr).toBe(0);
    expect(added.stdout).toMatch(new RegExp(`name\\s+${name}`));
    expect(added.stdout).toMatch(/secret\s+[A-Z2-7]{32}/);
    expect(added.stdout).toMatch(new RegExp(`assigned_user_ids\\s+${person.id}`));
    expect(await info(name, person.auth)).toMatchObject({ exists: true, max_uses: 2, usage_count: 0 });

    const used = await t.http().post('/api/v1/keys/code').set(person.auth).send({ key: name });
    expect(used.body.usage_info).toEqual({ max_uses: 2, usage_count: 1, remaining_uses: 1 });

    const limited = await cliJson('keys:set-limit', name, '5');
    expect(limited).toMatchObject({ max_uses: 5, usage_count: 1, remaining_uses: 4 });
    expect(await info(name)).toMatchObject({ max_uses: 5, usage_count: 1, remaining_uses: 4 });

    expect(await cliJson('keys:set-limit', name, 'unlimited')).toMatchObject({ remaining_uses: 'unlimited' });
    expect(await info(name)).toMatchObject({ max_uses: -1, remaining_uses: 'unlimited' });

    const reset = await cli('keys:reset', name);
    expect(reset.status, reset.stderr).toBe(0);
    expect(reset.stdout).toMatch(/usage_count\s+0/);
    expect(await info(name)).toMatchObject({ usage_count: 0 });

    await t.http().post('/api/v1/keys/code').set(person.auth).send({ key: name });
    const shown = await cliJson('keys:show', name);
    expect(shown).toMatchObject({ name, usage_count: 1, status: 'active' });
    expect(shown).not.toHaveProperty('secret');
    const listed = await cli('keys:list', '--status', 'active');
    expect(listed.stdout).toMatch(/^NAME\s+STATUS\s+MAX_USES/);
    expect(listed.stdout).toContain(name);

    const deleted = await cli('keys:delete', name);
    expect(deleted.status, deleted.stderr).toBe(0);
    expect(await info(name)).toEqual({ key: name, exists: false });

    const audited = await t.dataSource.query(
      `SELECT action, actor_type FROM audit_logs WHERE resource = 'usage_key' AND details->>'name' = $1 AND actor_type = 'system' ORDER BY id`,
      [name],
    );
    expect(audited.map((a: { action: string }) => a.action)).toEqual([
      'usage_key.create',
      'usage_key.update',
      'usage_key.update',
      'usage_key.reset',
      'usage_key.delete',
    ]);
  });

  it('imports the reference file (a dry run first, which writes nothing)', async () => {
    // The sample file with names of its own, so other suites on this database cannot collide with it.
    const suffix = uniqueName('');
    const sample = JSON.parse(readFileSync(SAMPLE, 'utf8')) as Record<string, unknown>;
    const file = join(mkdtempSync(join(tmpdir(), 'otp-cli-')), 'keys.json');
    writeFileSync(
      file,
      JSON.stringify(Object.fromEntries(Object.entries(sample).map(([k, v]) => [`${k}${suffix}`, v]))),
    );

    const dry = await cli('keys:import', file, '--dry-run');
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('dry run, nothing written: 4 created');
    expect(await info(`deploy-approval${suffix}`)).toMatchObject({ exists: false });

    const imported = await cliJson<{ created: number }>('keys:import', file);
    expect(imported.created).toBe(4);
    expect(await info(`deploy-approval${suffix}`)).toMatchObject({
      exists: true,
      max_uses: 5,
      usage_count: 2,
      created_at: '2025-01-15T10:30:00.123Z',
      last_used: '2025-01-16T08:05:09.654Z',
    });
    expect(await info(`spent${suffix}`)).toMatchObject({ usage_count: 3, is_valid: false });
    const again = await cli('keys:import', file);
    expect(again.stdout).toContain('0 created, 0 replaced, 4 skipped');
  });

  it('fails with a clear message and a non-zero exit', async () => {
    const missing = await cli('keys:show', 'no-such-key');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('No key named "no-such-key". (KEY_NOT_FOUND)');
    expect(missing.stdout).toBe('');

    const badLimit = await cli('keys:add', uniqueName('bad'), '--max-uses', '0');
    expect(badLimit.status).toBe(1);
    expect(badLimit.stderr).toContain('max_uses must be -1 (unlimited) or a whole number from 1');

    const notNumber = await cli('keys:set-limit', 'whatever', 'many');
    expect(notNumber.status).toBe(1);
    expect(notNumber.stderr).toContain('max-uses must be a whole number, got "many"');

    const noFile = await cli('keys:import', 'test/fixtures/does-not-exist.json');
    expect(noFile.status).toBe(1);
    expect(noFile.stderr).toContain('cannot read test/fixtures/does-not-exist.json');

    const unknown = await cli('keys:frobnicate');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("unknown command 'keys:frobnicate'");

    const badScope = await cli('api-keys:create', 'x', '--client', 'acme', '--scopes', 'root');
    expect(badScope.status).toBe(1);
    expect(badScope.stderr).toContain('scopes');
  });

  it(
    "addresses a client's key with --client, assigns several people, and lists a client's keys with their owner",
    { timeout: 120_000 },
    async () => {
      const name = uniqueName('owned');
      const made = await t.http().post('/api/v1/keys').set('x-api-key', acmeKey).send({ name, max_uses: 3 });
      expect(made.status).toBe(201);
      await t.http().post('/api/v1/keys/code').set('x-api-key', acmeKey).send({ key: name });

      // Without --client the admin space is meant, where this name is unknown.
      expect((await cli('keys:show', name)).stderr).toContain('(KEY_NOT_FOUND)');
      expect(await cliJson('keys:show', name, '--client', 'acme')).toMatchObject({
        client_id: 'acme',
        usage_count: 1,
      });
      expect(await cliJson('keys:set-limit', name, '5', '--client', 'acme')).toMatchObject({ max_uses: 5 });

      const other = await createUser(t);
      const assigned = await cliJson<{ assigned_user_ids: string[] }>(
        'keys:add',
        name,
        '--assign',
        person.username,
        '--assign',
        other.id,
      );
      expect(assigned.assigned_user_ids).toEqual([person.id, other.id].sort());
      const listed = await cli('keys:list', '--client', 'acme', '--limit', '100');
      expect(listed.stdout).toMatch(/CLIENT_ID$/m);
      expect(listed.stdout).toMatch(new RegExp(`^${name}\\s.*\\sacme$`, 'm'));
      expect(listed.stdout).not.toMatch(/\s-$/m);

      expect((await cli('keys:delete', name, '--client', 'acme')).status).toBe(0);
      expect((await t.http().post('/api/v1/keys/info').set('x-api-key', acmeKey).send({ key: name })).body).toEqual({
        key: name,
        exists: false,
      });
      expect(await info(name, person.auth)).toMatchObject({ exists: true });

      const nobody = await cli('keys:add', uniqueName('bad'), '--assign', uniqueName('nobody'));
      expect(nobody.status).toBe(1);
      expect(nobody.stderr).toContain('--assign: no user named');
    },
  );

  it('creates an administrator and API keys that the API accepts, and revokes them', async () => {
    const username = uniqueName('ops');
    const created = await cliJson<{ role: string; password: string; must_change_password: boolean }>(
      'admin:create',
      username,
      '--password',
      'Operator-Pass-42!',
    );
    expect(created).toMatchObject({ role: 'admin', must_change_password: false });
    expect(created).not.toHaveProperty('password');
    const login = await t.http().post('/api/v1/auth/login').send({ username, password: 'Operator-Pass-42!' });
    expect(login.status).toBe(200);

    const issued = await cliJson<{ id: string; key: string }>(
      'api-keys:create',
      'ops-key',
      '--client',
      'acme',
      '--scopes',
      'keys:admin',
    );
    const listedByApi = await t.http().get('/api/v1/keys').set('x-api-key', issued.key);
    expect(listedByApi.status).toBe(200);
    expect((await cli('api-keys:list')).stdout).toContain(issued.id);
    expect((await cli('api-keys:revoke', issued.id)).status).toBe(0);
    expect((await t.http().get('/api/v1/keys').set('x-api-key', issued.key)).status).toBe(401);
    const [row] = await t.dataSource.query(
      `SELECT actor_type FROM audit_logs WHERE action = 'api_key.revoke' AND resource_id = $1`,
      [issued.id],
    );
    expect(row.actor_type).toBe('system');
  });

  it('verifies the audit chain as the service does, exiting 1 when it is broken', async () => {
    const run = await cli('audit:verify', '--json');
    const result = JSON.parse(run.stdout) as { ok: boolean; firstBrokenId: string | null };
    const service = await t.app.get(AuditChainService).verify();
    expect({ ok: result.ok, firstBrokenId: result.firstBrokenId }).toEqual({
      ok: service.ok,
      firstBrokenId: service.firstBrokenId,
    });
    expect(run.status).toBe(service.ok ? 0 : 1);
  });

  it('re-encrypts stored secrets under the active key, keeping them readable', async () => {
    const name = uniqueName('rot');
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    expect((await cli('keys:add', name, '--max-uses', '-1', '--secret', secret)).status).toBe(0);
    const [before] = await t.dataSource.query('SELECT secret FROM usage_keys WHERE name = $1', [name]);
    expect(before.secret).toMatch(/^v1\.k1\./);

    // A key ring with a new active key k2; k1 stays in the ring so old tokens can be read.
    const ring = { ENCRYPTION_KEYS: `${env.ENCRYPTION_KEYS},k2:${testSecret()}`, ENCRYPTION_ACTIVE_KEY_ID: 'k2' };
    const rotated = await spawnWith(ring)('secrets:rotate', '--json');
    const reports = JSON.parse(rotated.stdout) as Array<{ table: string; rotated: number; failed: number }>;
    expect(reports.map((r) => r.table)).toEqual(expect.arrayContaining(['users', 'usage_keys']));
    expect(reports.find((r) => r.table === 'usage_keys')!.rotated).toBeGreaterThanOrEqual(1);
    // Other suites share this database under other rings: what no key here opens is reported and left alone.
    expect(rotated.status).toBe(reports.some((r) => r.failed > 0) ? 1 : 0);

    const [after] = await t.dataSource.query('SELECT secret FROM usage_keys WHERE name = $1', [name]);
    expect(after.secret).toMatch(/^v1\.k2\./);
    const { config } = loadConfig({ ...env, ...ring });
    const cipher = new SecretCipher(config.encryption.keys, config.encryption.activeKeyId);
    expect(cipher.decrypt(after.secret)).toEqual(decodeBase32(secret));
    const audited = await t.dataSource.query(
      `SELECT actor_type, details FROM audit_logs WHERE action = 'secrets.rotate' AND resource = 'usage_keys'`,
    );
    expect(audited.length).toBeGreaterThanOrEqual(1);
    expect(audited[0]).toMatchObject({ actor_type: 'system', details: { key_id: 'k2' } });
  });

  /** The CLI with extra environment (e.g. a rotated key ring). */
  function spawnWith(extra: Record<string, string>) {
    return (...args: string[]): Promise<CliRun> => {
      const saved = { ...env };
      Object.assign(env, extra);
      const run = cli(...args);
      Object.keys(env).forEach((k) => delete env[k]);
      Object.assign(env, saved);
      return run;
    };
  }
});
