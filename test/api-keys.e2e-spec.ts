import { Controller, Get, Module } from '@nestjs/common';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyAuth, CurrentClient, UserOrApiKeyAuth } from '../src/common/auth/auth.decorators.js';
import type { ClientPrincipal } from '../src/common/auth/principal.js';
import { FakeClock } from './support/fake-clock.js';
import { createUser, stepUp, TestUser } from './support/identity.js';
import { bootApp, TestApp } from './support/test-app.js';

/** Routes guarded by API-key policies, to prove the guard on its own. */
@Controller('key-probe')
class KeyProbeController {
  @Get('verify')
  @ApiKeyAuth('devices:verify')
  verify(@CurrentClient() client: ClientPrincipal): { client_id: string } {
    return { client_id: client.clientId };
  }

  @Get('either')
  @UserOrApiKeyAuth('keys:use')
  either(): { ok: true } {
    return { ok: true };
  }
}

@Module({ controllers: [KeyProbeController] })
class KeyProbeModule {}

describe('API keys for enterprise clients', () => {
  const clock = new FakeClock(new Date('2026-04-01T00:00:00Z'));
  const logLines: string[] = [];
  let t: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    const logs = new PassThrough();
    logs.on('data', (chunk: Buffer) => logLines.push(chunk.toString()));
    t = await bootApp(
      { LOG_LEVEL: 'info', API_KEY: 'configured-api-key-with-at-least-32-chars!' },
      { clock, imports: [KeyProbeModule], logDestination: logs },
    );
    admin = await createUser(t, { role: 'admin' });
  });
  afterAll(() => t.close());

  const create = (body: object) => t.http().post('/api/v1/api-keys').set(admin.auth).send(body);

  it('issues a key once, stores only its hash, and lists it without the secret', async () => {
    const res = await create({ name: 'acme prod', client_id: 'acme', scopes: ['devices:verify', 'devices:write'] });
    expect(res.status).toBe(201);
    expect(res.body.key).toMatch(/^otpk_[A-Za-z0-9_-]{43}$/);
    expect(res.body.key.startsWith(res.body.prefix)).toBe(true);
    expect(res.body).toMatchObject({ client_id: 'acme', status: 'active', usage_count: 0 });

    const [row] = await t.dataSource.query('SELECT * FROM api_keys WHERE id = $1', [res.body.id]);
    expect(JSON.stringify(row)).not.toContain(res.body.key.slice(5));

    const list = await t.http().get('/api/v1/api-keys').set(admin.auth);
    const listed = list.body.items.find((k: { id: string }) => k.id === res.body.id);
    expect(listed).toMatchObject({ prefix: res.body.prefix, scopes: ['devices:verify', 'devices:write'] });
    expect(listed).not.toHaveProperty('key');
  });

  it('accepts the key as X-API-Key or as a bearer token, and counts its uses', async () => {
    const { body } = await create({ name: 'acme', client_id: 'acme', scopes: ['devices:verify'] });
    expect((await t.http().get('/api/v1/key-probe/verify').set('x-api-key', body.key)).body).toEqual({
      client_id: 'acme',
    });
    expect((await t.http().get('/api/v1/key-probe/verify').set('authorization', `Bearer ${body.key}`)).status).toBe(
      200,
    );
    const shown = await t.http().get(`/api/v1/api-keys/${body.id}`).set(admin.auth);
    expect(shown.body.usage_count).toBe(2);
    expect(shown.body.last_used_at).toBe(clock.now().toISOString());
  });

  it('counts every one of many concurrent uses, without a write per request', async () => {
    const { body } = await create({ name: 'busy', client_id: 'acme', scopes: ['devices:verify'] });
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => t.http().get('/api/v1/key-probe/verify').set('x-api-key', body.key)),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const shown = await t.http().get(`/api/v1/api-keys/${body.id}`).set(admin.auth);
    expect(shown.body.usage_count).toBe(50);
  });

  it('refuses a key without the scope (403) and a user on an API-key route (401)', async () => {
    const { body } = await create({ name: 'reader', client_id: 'acme', scopes: ['devices:read'] });
    const res = await t.http().get('/api/v1/key-probe/verify').set('x-api-key', body.key);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('INSUFFICIENT_SCOPE');
    const user = await createUser(t);
    expect((await t.http().get('/api/v1/key-probe/verify').set(user.auth)).body.code).toBe('API_KEY_REQUIRED');
    expect((await t.http().get('/api/v1/key-probe/either').set(user.auth)).status).toBe(200);
  });

  it('refuses a revoked key and an expired key with 401', async () => {
    const revoked = (await create({ name: 'old', client_id: 'acme', scopes: ['devices:verify'] })).body;
    expect((await t.http().delete(`/api/v1/api-keys/${revoked.id}`).set(admin.auth)).status).toBe(204);
    const afterRevoke = await t.http().get('/api/v1/key-probe/verify').set('x-api-key', revoked.key);
    expect(afterRevoke.status).toBe(401);
    expect(afterRevoke.body.code).toBe('INVALID_API_KEY');

    const expiring = (
      await create({
        name: 'temp',
        client_id: 'acme',
        scopes: ['devices:verify'],
        expires_at: new Date(clock.now().getTime() + 60_000).toISOString(),
      })
    ).body;
    expect((await t.http().get('/api/v1/key-probe/verify').set('x-api-key', expiring.key)).status).toBe(200);
    clock.advance(61_000);
    expect((await t.http().get('/api/v1/key-probe/verify').set('x-api-key', expiring.key)).status).toBe(401);
    expect((await t.http().get(`/api/v1/api-keys/${expiring.id}`).set(admin.auth)).body.status).toBe('expired');
  });

  it('rotates a key: the new secret works, the old one stops', async () => {
    const original = (await create({ name: 'rotating', client_id: 'acme', scopes: ['devices:verify'] })).body;
    await stepUp(t, admin);
    const rotated = await t.http().post(`/api/v1/api-keys/${original.id}/rotate`).set(admin.auth);
    expect(rotated.status).toBe(200);
    expect(rotated.body.key).not.toBe(original.key);
    expect((await t.http().get('/api/v1/key-probe/verify').set('x-api-key', original.key)).status).toBe(401);
    expect((await t.http().get('/api/v1/key-probe/verify').set('x-api-key', rotated.body.key)).status).toBe(200);
  });

  it('keeps key management for administrators and validates input', async () => {
    const user = await createUser(t);
    expect((await t.http().get('/api/v1/api-keys').set(user.auth)).status).toBe(403);
    const bad = await create({ name: '', client_id: 'a b', scopes: ['root'] });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['client_id', 'name', 'scopes']);
  });

  it('registers the API_KEY setting for the default client', async () => {
    const res = await t
      .http()
      .get('/api/v1/key-probe/verify')
      .set('x-api-key', 'configured-api-key-with-at-least-32-chars!');
    expect(res.body).toEqual({ client_id: 'default' });
  });

  it('never writes a key into the logs', async () => {
    const { body } = await create({ name: 'logged', client_id: 'acme', scopes: ['devices:verify'] });
    await t.http().get('/api/v1/key-probe/verify').set('x-api-key', body.key);
    await t.http().get('/api/v1/key-probe/verify').set('authorization', `Bearer ${body.key}`);
    expect(logLines.join('')).not.toContain(body.key);
    expect(logLines.join('')).not.toContain(body.key.slice(5));
  });

  it('audits creation, rotation, revocation and refused keys', async () => {
    const rows = await t.dataSource.query(
      `SELECT action, status FROM audit_logs WHERE action LIKE 'api_key.%' OR action = 'authn.failed' OR action = 'authz.denied'`,
    );
    const actions = new Set(rows.map((r: { action: string; status: string }) => `${r.action}:${r.status}`));
    for (const expected of [
      'api_key.create:success',
      'api_key.rotate:success',
      'api_key.revoke:success',
      'authn.failed:failure',
      'authz.denied:failure',
    ]) {
      expect(actions).toContain(expected);
    }
  });
});
