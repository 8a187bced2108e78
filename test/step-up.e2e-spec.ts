import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeBase32 } from '../src/otp/base32.js';
import { generateTotp } from '../src/otp/otp-engine.js';
import { FakeClock } from './support/fake-clock.js';
import { createUser, login, PASSWORD, stepUp, TestUser } from './support/identity.js';
import { bootApp, TestApp } from './support/test-app.js';

const START = new Date('2026-05-01T09:00:00Z');
const FIVE_MINUTES = 5 * 60_000;
const WRONG_PASSWORD = 'Wrong-Password-1!';

describe('step-up: secrets need a recent re-authentication', () => {
  const clock = new FakeClock(START);
  let t: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    t = await bootApp({}, { clock });
    admin = await createUser(t, { role: 'admin' });
  });
  afterAll(() => t.close());
  // Tokens live 15 minutes: each test starts at START and signs its users in then.
  beforeEach(() => clock.set(START));

  const newConfig = async (user: TestUser): Promise<string> => {
    const res = await t
      .http()
      .post('/api/v1/otp/configs')
      .set(user.auth)
      .send({ name: `acct-${Math.random()}` });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };
  const newApiKey = async (): Promise<string> => {
    const res = await t
      .http()
      .post('/api/v1/api-keys')
      .set(admin.auth)
      .send({ name: 'step-up', client_id: 'acme', scopes: ['devices:verify'] });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };
  const totpCode = (base32: string): string =>
    generateTotp({
      secret: decodeBase32(base32),
      algorithm: 'sha1',
      digits: 6,
      period: 30,
      now: clock.now().getTime(),
    }).code;
  /** Turns MFA on for a user (stepping up first) and answers its base32 secret. */
  const enableMfa = async (user: TestUser): Promise<string> => {
    await stepUp(t, user);
    const enrol = await t.http().post('/api/v1/auth/mfa/enable').set(user.auth).expect(200);
    await t
      .http()
      .post('/api/v1/auth/mfa/verify')
      .set(user.auth)
      .send({ code: totpCode(enrol.body.mfa_secret) })
      .expect(200);
    return enrol.body.mfa_secret as string;
  };
  const failedLogins = async (userId: string): Promise<number> =>
    (await t.dataSource.query('SELECT failed_login_attempts FROM users WHERE id = $1', [userId]))[0]
      .failed_login_attempts;
  const audit = (actorId: string, action: string) =>
    t.dataSource.query<{ status: string; resource: string; resource_id: string; details: Record<string, unknown> }[]>(
      `SELECT status, resource, resource_id, details FROM audit_logs WHERE actor_id = $1 AND action = $2 ORDER BY id`,
      [actorId, action],
    );

  /** Every route that reveals or replaces a secret of an existing object, called as `user`. */
  const secretRoutes = (user: TestUser, ids: { config: string; apiKey: string }) => ({
    'GET otp/configs/:id/qr': () => t.http().get(`/api/v1/otp/configs/${ids.config}/qr`).set(user.auth),
    'GET otp/configs/:id/qr?format=svg': () =>
      t.http().get(`/api/v1/otp/configs/${ids.config}/qr?format=svg`).set(user.auth),
    'GET otp/configs/:id/qr (Accept: image/svg+xml)': () =>
      t.http().get(`/api/v1/otp/configs/${ids.config}/qr`).set(user.auth).set('accept', 'image/svg+xml'),
    'POST otp/configs/:id/secret': () =>
      t.http().post(`/api/v1/otp/configs/${ids.config}/secret`).set(user.auth).send({}),
    'POST auth/mfa/enable': () => t.http().post('/api/v1/auth/mfa/enable').set(user.auth),
    'POST api-keys/:id/rotate': () => t.http().post(`/api/v1/api-keys/${ids.apiKey}/rotate`).set(user.auth),
  });

  it('refuses every route that reveals or replaces a secret with 403 STEP_UP_REQUIRED without a step-up, and audits each refusal', async () => {
    const user = await createUser(t, { role: 'admin' });
    const ids = { config: await newConfig(user), apiKey: await newApiKey() };
    const routes = secretRoutes(user, ids);
    for (const [name, call] of Object.entries(routes)) {
      const res = await call();
      expect(res.status, name).toBe(403);
      expect(res.headers['content-type'], name).toMatch(/^application\/problem\+json/);
      expect(res.body.code, name).toBe('STEP_UP_REQUIRED');
      expect(JSON.stringify(res.body), name).not.toMatch(/otpauth|secret=/);
    }
    // MFA off needs the step-up too, even with the password and a code in the body.
    const disable = await t
      .http()
      .post('/api/v1/auth/mfa/disable')
      .set(user.auth)
      .send({ password: PASSWORD, code: '123456' });
    expect(disable.status).toBe(403);
    expect(disable.body.code).toBe('STEP_UP_REQUIRED');

    const refusals = await audit(user.id, 'authz.denied');
    expect(refusals.map((r) => r.resource_id).sort()).toEqual(
      [
        'GET /api/v1/otp/configs/:id/qr',
        'GET /api/v1/otp/configs/:id/qr',
        'GET /api/v1/otp/configs/:id/qr',
        'POST /api/v1/otp/configs/:id/secret',
        'POST /api/v1/auth/mfa/enable',
        'POST /api/v1/api-keys/:id/rotate',
        'POST /api/v1/auth/mfa/disable',
      ].sort(),
    );
    for (const refusal of refusals) {
      expect(refusal).toMatchObject({ status: 'failure', resource: 'route', details: { code: 'STEP_UP_REQUIRED' } });
    }
  });

  it('allows them for 5 minutes after a step-up and refuses them again once the 5 minutes have passed', async () => {
    const user = await createUser(t, { role: 'admin' });
    const ids = { config: await newConfig(user), apiKey: await newApiKey() };
    const routes = secretRoutes(user, ids);
    const stepped = await t.http().post('/api/v1/auth/step-up').set(user.auth).send({ password: PASSWORD });
    expect(stepped.status).toBe(200);
    expect(stepped.body).toEqual({
      step_up_expires_at: new Date(START.getTime() + FIVE_MINUTES).toISOString(),
      expires_in: 300,
    });

    clock.advance(FIVE_MINUTES - 1000);
    for (const [name, call] of Object.entries(routes)) {
      expect((await call()).status, name).toBe(200);
    }
    const qr = await routes['GET otp/configs/:id/qr']();
    expect(qr.body.provisioning_uri).toContain('secret=');

    clock.advance(1000);
    for (const [name, call] of Object.entries(routes)) {
      const res = await call();
      expect(res.status, name).toBe(403);
      expect(res.body.code, name).toBe('STEP_UP_REQUIRED');
    }
    expect(await audit(user.id, 'auth.step_up')).toEqual([
      expect.objectContaining({ status: 'success', resource: 'session', details: { mfa: false } }),
    ]);
  });

  it('answers 403 before looking the object up, so another person’s configuration id tells nothing', async () => {
    const owner = await createUser(t);
    const stranger = await createUser(t);
    const config = await newConfig(owner);
    const before = await t.http().get(`/api/v1/otp/configs/${config}/qr`).set(stranger.auth);
    expect(before.status).toBe(403);
    expect(before.body.code).toBe('STEP_UP_REQUIRED');
    await stepUp(t, stranger);
    const after = await t.http().get(`/api/v1/otp/configs/${config}/qr`).set(stranger.auth);
    expect(after.status).toBe(404);
    expect(after.body.code).toBe('CONFIG_NOT_FOUND');
  });

  it('refuses a wrong step-up password, counts it towards the login lockout and audits it', async () => {
    const user = await createUser(t);
    const config = await newConfig(user);
    const wrong = await t.http().post('/api/v1/auth/step-up').set(user.auth).send({ password: WRONG_PASSWORD });
    expect(wrong.status).toBe(400);
    expect(wrong.body.code).toBe('STEP_UP_FAILED');
    expect(await failedLogins(user.id)).toBe(1);
    expect(await audit(user.id, 'auth.step_up')).toEqual([
      expect.objectContaining({ status: 'failure', details: { reason: 'bad_password' } }),
    ]);
    expect((await t.http().get(`/api/v1/otp/configs/${config}/qr`).set(user.auth)).status).toBe(403);
  });

  it('locks the account after the fifth wrong step-up: the right password is then refused with 423 (step-up and password change), and so is a login', async () => {
    const user = await createUser(t);
    for (let i = 0; i < 5; i++) {
      const res = await t.http().post('/api/v1/auth/step-up').set(user.auth).send({ password: WRONG_PASSWORD });
      expect(res.status).toBe(400);
    }
    const locked = await t.http().post('/api/v1/auth/step-up').set(user.auth).send({ password: PASSWORD });
    expect(locked.status).toBe(423);
    expect(locked.body).toMatchObject({ code: 'ACCOUNT_LOCKED', retry_after: 15 * 60 });
    const signIn = await t.http().post('/api/v1/auth/login').send({ username: user.username, password: PASSWORD });
    expect(signIn.status).toBe(423);
    expect(signIn.body.code).toBe('ACCOUNT_LOCKED');
    const change = await t
      .http()
      .post('/api/v1/auth/change-password')
      .set(user.auth)
      .send({ current_password: PASSWORD, new_password: 'Another-Horse-7?' });
    expect(change.status).toBe(423);
    expect(change.body.code).toBe('ACCOUNT_LOCKED');
    expect(
      await t.dataSource.query(`SELECT 1 FROM audit_logs WHERE resource_id = $1 AND action = 'auth.lockout'`, [
        user.id,
      ]),
    ).toHaveLength(1);
    clock.advance(15 * 60_000);
    const fresh = await login(t, user.username, PASSWORD);
    expect((await t.http().post('/api/v1/auth/step-up').set(fresh.auth).send({ password: PASSWORD })).status).toBe(200);
  });

  it('asks an MFA user for a code as well: refuses without one or with a wrong one (counted), accepts a TOTP, then MFA can be turned off', async () => {
    const user = await createUser(t);
    const secret = await enableMfa(user);
    clock.advance(30_000);

    const noCode = await t.http().post('/api/v1/auth/step-up').set(user.auth).send({ password: PASSWORD });
    expect(noCode.status).toBe(400);
    expect(noCode.body.code).toBe('MFA_CODE_REQUIRED');
    const code = totpCode(secret);
    const wrongCode = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const badCode = await t
      .http()
      .post('/api/v1/auth/step-up')
      .set(user.auth)
      .send({ password: PASSWORD, mfa_code: wrongCode });
    const badPassword = await t
      .http()
      .post('/api/v1/auth/step-up')
      .set(user.auth)
      .send({ password: WRONG_PASSWORD, mfa_code: code });
    // Neither answer says which factor was wrong; both count.
    expect(badCode.status).toBe(400);
    const strip = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
    expect(strip(badCode.body)).toEqual(strip(badPassword.body));
    expect(badCode.body.code).toBe('STEP_UP_FAILED');
    expect(await failedLogins(user.id)).toBe(2);

    await stepUp(t, user, code);
    const replayed = await t
      .http()
      .post('/api/v1/auth/step-up')
      .set(user.auth)
      .send({ password: PASSWORD, mfa_code: code });
    expect(replayed.status).toBe(400); // a code of a step already used is refused

    clock.advance(30_000);
    const disabled = await t
      .http()
      .post('/api/v1/auth/mfa/disable')
      .set(user.auth)
      .send({ password: PASSWORD, code: totpCode(secret) });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toEqual({ mfa_enabled: false });
    expect((await audit(user.id, 'auth.step_up')).map((r) => `${r.status}:${r.details.reason ?? ''}`)).toEqual([
      'success:', // before enabling
      'failure:mfa_required',
      'failure:bad_mfa_code',
      'failure:bad_password',
      'success:',
      'failure:bad_mfa_code',
    ]);
  });

  it('drops the step-up when the session is refreshed, and marks only the session that stepped up', async () => {
    const user = await createUser(t);
    const config = await newConfig(user);
    const other = await login(t, user.username, PASSWORD);
    await stepUp(t, user);
    const qr = (auth: Record<string, string>) => t.http().get(`/api/v1/otp/configs/${config}/qr`).set(auth);
    expect((await qr(user.auth)).status).toBe(200);
    expect((await qr(other.auth)).status).toBe(403);

    const refreshed = await t.http().post('/api/v1/auth/refresh').send({ refresh_token: user.refreshToken });
    expect(refreshed.status).toBe(200);
    const res = await qr({ authorization: `Bearer ${refreshed.body.access_token}` });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('STEP_UP_REQUIRED');
  });

  it('refuses unknown step-up fields (400) and an anonymous step-up (401)', async () => {
    const user = await createUser(t);
    const res = await t.http().post('/api/v1/auth/step-up').set(user.auth).send({ password: PASSWORD, extra: 1 });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    const anonymous = await t.http().post('/api/v1/auth/step-up').send({ password: PASSWORD });
    expect(anonymous.status).toBe(401);
  });

  it('documents the step-up and the 403 STEP_UP_REQUIRED on every step-up route', async () => {
    const { body } = await t.http().get('/docs/openapi.json').expect(200);
    expect(body.paths['/api/v1/auth/step-up'].post.responses).toHaveProperty('200');
    for (const [path, method] of [
      ['/api/v1/otp/configs/{id}/qr', 'get'],
      ['/api/v1/otp/configs/{id}/secret', 'post'],
      ['/api/v1/auth/mfa/enable', 'post'],
      ['/api/v1/auth/mfa/disable', 'post'],
      ['/api/v1/api-keys/{id}/rotate', 'post'],
    ]) {
      const forbidden = body.paths[path][method].responses['403'];
      expect(forbidden.description, `${method} ${path}`).toContain('STEP_UP_REQUIRED');
      expect(forbidden.content).toHaveProperty('application/problem+json');
    }
    expect(body.components.schemas.ProblemDetails.properties.code.description).toContain('STEP_UP_REQUIRED');
  });
});
