import { createHmac } from 'node:crypto';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/audit-log.entity.js';
import { decodeBase32 } from '../src/otp/base32.js';
import { generateTotp } from '../src/otp/otp-engine.js';
import { FakeClock } from './support/fake-clock.js';
import { createUser, login, PASSWORD, stepUp, uniqueName } from './support/identity.js';
import { bootApp, TestApp } from './support/test-app.js';

const b64url = (value: object | string): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('identity: sign-up, login, tokens, sessions, lockout, MFA', () => {
  const clock = new FakeClock(new Date('2026-03-01T10:00:00Z'));
  let t: TestApp;

  beforeAll(async () => {
    t = await bootApp({ LOG_LEVEL: process.env.DEBUG_LOG ?? 'silent' }, { clock });
  });
  afterAll(() => t.close());

  const me = (auth: Record<string, string>) => t.http().get('/api/v1/users/me').set(auth);
  const auditActions = async (actorId: string): Promise<string[]> =>
    (await t.dataSource.getRepository(AuditLog).find({ where: { actorId }, order: { id: 'ASC' } })).map(
      (row) => `${row.action}:${row.status}`,
    );

  it('signs up, logs in, reads users/me, refreshes and logs out', async () => {
    const username = uniqueName();
    const reg = await t
      .http()
      .post('/api/v1/auth/register')
      .send({ username, email: `${username}@example.com`, password: PASSWORD, department: 'Ops', job_title: 'SRE' });
    expect(reg.status).toBe(201);
    expect(reg.body).toMatchObject({ username, role: 'user', mfa_enabled: false, department: 'Ops', job_title: 'SRE' });
    expect(reg.body).not.toHaveProperty('password_hash');

    const logged = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: `${username}@EXAMPLE.com`, password: PASSWORD });
    expect(logged.status).toBe(200);
    expect(logged.body).toMatchObject({
      mfa_required: false,
      token_type: 'Bearer',
      expires_in: 900,
      user: { username },
    });

    const auth = { authorization: `Bearer ${logged.body.access_token}` };
    expect((await me(auth)).body.username).toBe(username);

    const refreshed = await t.http().post('/api/v1/auth/refresh').send({ refresh_token: logged.body.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(logged.body.refresh_token);
    const newAuth = { authorization: `Bearer ${refreshed.body.access_token}` };
    expect((await me(newAuth)).status).toBe(200);
    expect((await me(auth)).status).toBe(401); // the rotated session's access token ended with it

    expect((await t.http().post('/api/v1/auth/logout').set(newAuth).send({})).status).toBe(204);
    expect((await me(newAuth)).status).toBe(401);
    expect(
      (await t.http().post('/api/v1/auth/refresh').send({ refresh_token: refreshed.body.refresh_token })).status,
    ).toBe(401);
    expect(await auditActions(reg.body.id)).toEqual(
      expect.arrayContaining([
        'user.register:success',
        'auth.login:success',
        'auth.refresh:success',
        'auth.logout:success',
      ]),
    );
  });

  it('revokes the whole family when a rotated refresh token is used again', async () => {
    const user = await createUser(t);
    const first = await t.http().post('/api/v1/auth/refresh').send({ refresh_token: user.refreshToken });
    expect(first.status).toBe(200);
    const replay = await t.http().post('/api/v1/auth/refresh').send({ refresh_token: user.refreshToken });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('INVALID_REFRESH_TOKEN');
    // The legitimate successor is gone too.
    expect((await t.http().post('/api/v1/auth/refresh').send({ refresh_token: first.body.refresh_token })).status).toBe(
      401,
    );
    expect((await me({ authorization: `Bearer ${first.body.access_token}` })).status).toBe(401);
    expect(await auditActions(user.id)).toContain('auth.refresh_reuse:failure');
  });

  it('answers an unknown user and a wrong password alike', async () => {
    const user = await createUser(t);
    const unknown = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: uniqueName('ghost'), password: PASSWORD });
    const wrong = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: user.username, password: 'Wrong-Password-1!' });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    const strip = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
    expect(strip(unknown.body)).toEqual(strip(wrong.body));
  });

  it('locks an account after 5 failures until the lock expires, even for the right password', async () => {
    const user = await createUser(t);
    for (let i = 0; i < 5; i++) {
      expect(
        (await t.http().post('/api/v1/auth/login').send({ username: user.username, password: 'Wrong-Password-1!' }))
          .status,
      ).toBe(401);
    }
    const sixth = await t.http().post('/api/v1/auth/login').send({ username: user.username, password: PASSWORD });
    expect(sixth.status).toBe(423);
    expect(sixth.headers['retry-after']).toBe('900');
    expect(sixth.body).toMatchObject({
      code: 'ACCOUNT_LOCKED',
      retry_after: 900,
      locked_until: new Date(clock.now().getTime() + 15 * 60_000).toISOString(),
    });
    clock.advance(14 * 60_000);
    const later = await t.http().post('/api/v1/auth/login').send({ username: user.username, password: PASSWORD });
    expect(later.status).toBe(423);
    expect(later.headers['retry-after']).toBe('60');
    clock.advance(2 * 60_000);
    expect(
      (await t.http().post('/api/v1/auth/login').send({ username: user.username, password: PASSWORD })).status,
    ).toBe(200);
    const actions = await t.dataSource
      .getRepository(AuditLog)
      .find({ where: { resourceId: user.id, action: 'auth.lockout' } });
    expect(actions).toHaveLength(1);
  });

  it('lets an admin unlock a locked account at once', async () => {
    const admin = await createUser(t, { role: 'admin' });
    const user = await createUser(t);
    for (let i = 0; i < 5; i++) {
      await t.http().post('/api/v1/auth/login').send({ username: user.username, password: 'Wrong-Password-1!' });
    }
    const locked = await t.http().get('/api/v1/users?locked=true&limit=100').set(admin.auth);
    expect(locked.body.items.map((u: { id: string }) => u.id)).toContain(user.id);
    expect(
      (await t.http().post('/api/v1/auth/login').send({ username: user.username, password: PASSWORD })).status,
    ).toBe(423);
    const unlocked = await t.http().post(`/api/v1/users/${user.id}/unlock`).set(admin.auth);
    expect(unlocked.status).toBe(200);
    expect(unlocked.body).toMatchObject({ failed_login_attempts: 0, locked_until: null });
    expect(
      (await t.http().post('/api/v1/auth/login').send({ username: user.username, password: PASSWORD })).status,
    ).toBe(200);
  });

  describe('access tokens that must be refused', () => {
    let user: Awaited<ReturnType<typeof createUser>>;
    let claims: Record<string, unknown>;

    beforeAll(async () => {
      user = await createUser(t);
      claims = JSON.parse(Buffer.from(user.accessToken.split('.')[1], 'base64url').toString());
    });

    const sign = (header: object, payload: object, algorithm = 'sha256'): string => {
      const input = `${b64url(header)}.${b64url(payload)}`;
      return `${input}.${createHmac(algorithm, t.config.jwt.secret).update(input).digest('base64url')}`;
    };
    const expectRefused = async (token: string, code = 'INVALID_TOKEN') => {
      const res = await me({ authorization: `Bearer ${token}` });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe(code);
    };

    it('accepts the genuine token (control)', async () => {
      expect((await me(user.auth)).status).toBe(200);
      expect((await me({ authorization: `Bearer ${sign({ alg: 'HS256', typ: 'JWT' }, claims)}` })).status).toBe(200);
    });
    it('refuses alg "none"', () => expectRefused(`${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`));
    it('refuses another algorithm, even with the right key', () =>
      expectRefused(sign({ alg: 'HS512', typ: 'JWT' }, claims, 'sha512')));
    it('refuses a wrong audience', () => expectRefused(sign({ alg: 'HS256' }, { ...claims, aud: 'someone-else' })));
    it('refuses a wrong issuer', () => expectRefused(sign({ alg: 'HS256' }, { ...claims, iss: 'evil' })));
    it('refuses a token signed with another key', async () => {
      const input = `${b64url({ alg: 'HS256' })}.${b64url(claims)}`;
      await expectRefused(
        `${input}.${createHmac('sha256', 'another-key-another-key-another-key').update(input).digest('base64url')}`,
      );
    });
    it('refuses a token of another type', () => expectRefused(sign({ alg: 'HS256' }, { ...claims, typ: 'refresh' })));
    it('refuses a refresh token used as an access token', () => expectRefused(user.refreshToken));
    it('refuses a token without exp', () => expectRefused(sign({ alg: 'HS256' }, { ...claims, exp: undefined })));
    it('refuses a token without iat', () => expectRefused(sign({ alg: 'HS256' }, { ...claims, iat: undefined })));
    it('refuses a token that lives longer than the access TTL plus the clock skew', () =>
      expectRefused(sign({ alg: 'HS256' }, { ...claims, exp: (claims.iat as number) + 900 + 31 })));
    it('refuses a token issued in the future beyond the clock skew', () =>
      expectRefused(sign({ alg: 'HS256' }, { ...claims, iat: (claims.iat as number) + 31 })));
    it('accepts a token issued or living within the clock skew (control)', async () => {
      const iat = claims.iat as number;
      for (const skewed of [
        { ...claims, iat: iat + 30 },
        { ...claims, exp: iat + 900 + 30 },
      ]) {
        expect((await me({ authorization: `Bearer ${sign({ alg: 'HS256' }, skewed)}` })).status).toBe(200);
      }
    });
    it('refuses an expired token', async () => {
      const fresh = await login(t, user.username, PASSWORD);
      clock.advance(16 * 60_000);
      await expectRefused(fresh.accessToken, 'TOKEN_EXPIRED');
    });
  });

  it('keeps users off admin routes and refuses role escalation fields', async () => {
    const user = await createUser(t);
    const res = await t.http().get('/api/v1/users').set(user.auth);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('INSUFFICIENT_ROLE');
    const username = uniqueName();
    const signup = await t
      .http()
      .post('/api/v1/auth/register')
      .send({ username, email: `${username}@example.com`, password: PASSWORD, role: 'admin' });
    expect(signup.status).toBe(400);
    expect(signup.body.errors[0].field).toBe('role');
    const patch = await t.http().patch('/api/v1/users/me').set(user.auth).send({ role: 'admin' });
    expect(patch.status).toBe(400);
    expect((await me(user.auth)).body.role).toBe('user');
    expect(await auditActions(user.id)).toContain('authz.denied:failure');
  });

  it('requires authentication everywhere that is not public', async () => {
    const res = await t.http().get('/api/v1/users/me');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('AUTHENTICATION_REQUIRED');
  });

  it('refuses weak passwords and duplicates with clear errors', async () => {
    const username = uniqueName();
    const weak = await t
      .http()
      .post('/api/v1/auth/register')
      .send({ username, email: `${username}@example.com`, password: 'password' });
    expect(weak.status).toBe(400);
    expect(weak.body.errors[0]).toMatchObject({ field: 'password' });
    const user = await createUser(t);
    const dup = await t
      .http()
      .post('/api/v1/auth/register')
      .send({ username: user.username.toUpperCase(), email: `x${user.email}`, password: PASSWORD });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('USERNAME_TAKEN');
  });

  it('ends access at once on logout, disable and password change', async () => {
    const admin = await createUser(t, { role: 'admin' });
    const user = await createUser(t);
    const other = await login(t, user.username, PASSWORD);

    const changed = await t
      .http()
      .post('/api/v1/auth/change-password')
      .set(user.auth)
      .send({ current_password: PASSWORD, new_password: 'Another-Horse-7?' });
    expect(changed.status).toBe(204);
    expect((await me(other.auth)).status).toBe(401); // other sessions end
    expect((await me(user.auth)).status).toBe(200); // this one stays

    const disabled = await t.http().patch(`/api/v1/users/${user.id}`).set(admin.auth).send({ is_active: false });
    expect(disabled.status).toBe(200);
    expect((await me(user.auth)).status).toBe(401);
    expect(
      (await t.http().post('/api/v1/auth/login').send({ username: user.username, password: 'Another-Horse-7?' }))
        .status,
    ).toBe(401);
  });

  it('asks for a password change before anything else when required', async () => {
    const admin = await createUser(t, { role: 'admin' });
    const user = await createUser(t);
    await t.http().patch(`/api/v1/users/${user.id}`).set(admin.auth).send({ must_change_password: true });
    const blocked = await t.http().get('/api/v1/auth/sessions').set(user.auth);
    expect(blocked.status).toBe(403);
    expect(blocked.body.code).toBe('PASSWORD_CHANGE_REQUIRED');
    await t
      .http()
      .post('/api/v1/auth/change-password')
      .set(user.auth)
      .send({ current_password: PASSWORD, new_password: 'Another-Horse-7?' })
      .expect(204);
    expect((await t.http().get('/api/v1/auth/sessions').set(user.auth)).status).toBe(200);
  });

  it('lists and revokes own sessions, not those of others', async () => {
    const user = await createUser(t);
    const second = await login(t, user.username, PASSWORD);
    const list = await t.http().get('/api/v1/auth/sessions').set(user.auth);
    expect(list.body).toHaveLength(2);
    const target = list.body.find((s: { current: boolean }) => !s.current);
    const stranger = await createUser(t);
    expect((await t.http().delete(`/api/v1/auth/sessions/${target.id}`).set(stranger.auth)).status).toBe(404);
    expect((await t.http().delete(`/api/v1/auth/sessions/${target.id}`).set(user.auth)).status).toBe(204);
    expect((await me(second.auth)).status).toBe(401);
  });

  it('enrols TOTP MFA and then requires a code (once), or a recovery code (once)', async () => {
    const user = await createUser(t);
    await stepUp(t, user);
    const enrol = await t.http().post('/api/v1/auth/mfa/enable').set(user.auth);
    expect(enrol.status).toBe(200);
    expect(enrol.body.mfa_uri).toMatch(/^otpauth:\/\/totp\/OTP%20Service:/);
    expect(enrol.body.qr_code).toMatch(/^data:image\/png;base64,/);
    const secret = decodeBase32(enrol.body.mfa_secret);
    const codeAt = (ms: number) => generateTotp({ secret, algorithm: 'sha1', digits: 6, period: 30, now: ms }).code;

    const stored = await t.dataSource.query('SELECT mfa_secret FROM users WHERE id = $1', [user.id]);
    expect(stored[0].mfa_secret).not.toContain(enrol.body.mfa_secret); // encrypted at rest

    expect((await t.http().post('/api/v1/auth/mfa/verify').set(user.auth).send({ code: '000000' })).status).toBe(400);
    const confirmed = await t
      .http()
      .post('/api/v1/auth/mfa/verify')
      .set(user.auth)
      .send({ code: codeAt(clock.now().getTime()) });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.recovery_codes).toHaveLength(10);

    const noCode = await t.http().post('/api/v1/auth/login').send({ username: user.username, password: PASSWORD });
    expect(noCode.status).toBe(200);
    expect(noCode.body).toEqual({ mfa_required: true });

    clock.advance(30_000);
    const code = codeAt(clock.now().getTime());
    const withCode = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: user.username, password: PASSWORD, mfa_code: code });
    expect(withCode.status).toBe(200);
    expect(withCode.body.access_token).toEqual(expect.any(String));
    const replay = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: user.username, password: PASSWORD, mfa_code: code });
    expect(replay.status).toBe(401);

    const recovery = confirmed.body.recovery_codes[0];
    const viaRecovery = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: user.username, password: PASSWORD, mfa_code: recovery });
    expect(viaRecovery.status).toBe(200);
    const recoveryAgain = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: user.username, password: PASSWORD, mfa_code: recovery });
    expect(recoveryAgain.status).toBe(401);

    // Turning MFA off is a step-up route: password and a code first, then a code of a later step.
    clock.advance(30_000);
    await stepUp(t, user, codeAt(clock.now().getTime()));
    clock.advance(30_000);
    const wrongPassword = await t
      .http()
      .post('/api/v1/auth/mfa/disable')
      .set(user.auth)
      .send({ password: 'Not-The-Password-1!', code: codeAt(clock.now().getTime()) });
    expect(wrongPassword.status).toBe(400);
    expect(wrongPassword.body.code).toBe('INVALID_PASSWORD');
    expect(await auditActions(user.id)).toContain('auth.password_confirm:failure');
    const disable = await t
      .http()
      .post('/api/v1/auth/mfa/disable')
      .set(user.auth)
      .send({ password: PASSWORD, code: codeAt(clock.now().getTime()) });
    expect(disable.status).toBe(200);
    expect((await login(t, user.username, PASSWORD)).accessToken).toEqual(expect.any(String));
    expect(await auditActions(user.id)).toEqual(
      expect.arrayContaining(['mfa.enabled:success', 'mfa.disabled:success']),
    );
  });

  describe('one lock rule: exact under concurrency, fresh after a lapse', () => {
    const WRONG = 'Wrong-Password-1!';
    const LIMIT = 5;
    const postLogin = (body: object) => t.http().post('/api/v1/auth/login').send(body);
    const failures = async (userId: string): Promise<number> =>
      (await t.dataSource.query('SELECT failed_login_attempts AS n FROM users WHERE id = $1', [userId]))[0].n;
    const lockouts = async (userId: string): Promise<number> =>
      (await t.dataSource.getRepository(AuditLog).find({ where: { resourceId: userId, action: 'auth.lockout' } }))
        .length;

    /** Every answer is a verdict (200 accepted, 401 wrong) or a 423 ACCOUNT_LOCKED with its Retry-After header. */
    function tally(answers: Response[]): { accepted: number; wrong: number; locked: number } {
      for (const answer of answers) {
        expect([200, 401, 423], JSON.stringify(answer.body)).toContain(answer.status);
        if (answer.status === 423) {
          expect(answer.headers['retry-after']).toMatch(/^[1-9]\d*$/);
          expect(answer.body).toMatchObject({
            code: 'ACCOUNT_LOCKED',
            retry_after: Number(answer.headers['retry-after']),
            locked_until: expect.any(String),
          });
        }
      }
      const count = (status: number) => answers.filter((a) => a.status === status).length;
      return { accepted: count(200), wrong: count(401), locked: count(423) };
    }

    async function mfaUser(): Promise<{
      user: Awaited<ReturnType<typeof createUser>>;
      codeAt: (ms: number) => string;
    }> {
      const user = await createUser(t);
      await stepUp(t, user);
      const enrol = await t.http().post('/api/v1/auth/mfa/enable').set(user.auth).expect(200);
      const secret = decodeBase32(enrol.body.mfa_secret);
      const codeAt = (ms: number) => generateTotp({ secret, algorithm: 'sha1', digits: 6, period: 30, now: ms }).code;
      await t
        .http()
        .post('/api/v1/auth/mfa/verify')
        .set(user.auth)
        .send({ code: codeAt(clock.now().getTime()) })
        .expect(200);
      clock.advance(30_000); // the next step is unused
      return { user, codeAt };
    }

    /** A 6-digit code that matches none of the steps accepted now. */
    function wrongMfaCode(codeAt: (ms: number) => string): string {
      const now = clock.now().getTime();
      const taken = new Set([-1, 0, 1].map((d) => codeAt(now + d * 30_000)));
      for (let n = 0; ; n++) {
        const code = String(n).padStart(6, '0');
        if (!taken.has(code)) return code;
      }
    }

    it(`answers at most ${LIMIT} of 200 concurrent wrong passwords as wrong; the rest 423 with Retry-After`, async () => {
      const user = await createUser(t);
      const answers = await Promise.all(
        Array.from({ length: 200 }, () => postLogin({ username: user.username, password: WRONG })),
      );
      // Printed before the checks, so a run on code without the rule shows its figure too.
      const evaluated = answers.filter((a) => a.status !== 423).length;
      process.stdout.write(
        `login: ${evaluated} of 200 concurrent wrong passwords evaluated (limit ${LIMIT}), ${200 - evaluated} answered 423\n`,
      );
      const { wrong, locked } = tally(answers);
      expect(wrong).toBe(LIMIT);
      expect(locked).toBe(200 - LIMIT);
      expect(await failures(user.id)).toBe(LIMIT);
      expect(await lockouts(user.id)).toBe(1);
    });

    it(`answers at most ${LIMIT} of 200 concurrent wrong MFA codes as wrong; the rest 423 with Retry-After`, async () => {
      const { user, codeAt } = await mfaUser();
      const bad = wrongMfaCode(codeAt);
      const answers = await Promise.all(
        Array.from({ length: 200 }, () => postLogin({ username: user.username, password: PASSWORD, mfa_code: bad })),
      );
      // Printed before the checks, so a run on code without the rule shows its figure too.
      const evaluated = answers.filter((a) => a.status !== 423).length;
      process.stdout.write(
        `login MFA: ${evaluated} of 200 concurrent wrong codes evaluated (limit ${LIMIT}), ${200 - evaluated} answered 423\n`,
      );
      const { wrong, locked } = tally(answers);
      expect(wrong).toBe(LIMIT);
      expect(locked).toBe(200 - LIMIT);
      expect(await failures(user.id)).toBe(LIMIT);
    });

    /**
     * The right answer at `position` in a burst of 40 wrong ones: accepted only while fewer than
     * LIMIT wrong verdicts came before it (its success reset the count, so what the count holds
     * now came after it), otherwise 423, never "wrong".
     */
    async function expectNeverAcceptedAfterLimit(
      userId: string,
      position: number,
      send: (right: boolean) => Promise<Response>,
    ): Promise<void> {
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => send(i === position)));
      const right = answers[position]!;
      const others = tally(answers.filter((_, i) => i !== position));
      expect(others.accepted).toBe(0);
      if (right.status === 200) {
        expect(others.wrong - (await failures(userId))).toBeLessThan(LIMIT);
        expect(others.wrong).toBeLessThanOrEqual(2 * LIMIT - 1);
      } else {
        expect(right.status).toBe(423);
        expect(others.wrong).toBeLessThanOrEqual(LIMIT);
      }
    }

    it('never accepts the right password hidden in a burst of wrong ones after the limit of wrong verdicts', async () => {
      for (const position of [15, 25]) {
        const user = await createUser(t);
        await expectNeverAcceptedAfterLimit(user.id, position, (right) =>
          postLogin({ username: user.username, password: right ? PASSWORD : WRONG }),
        );
      }
    });

    it('never accepts the right MFA code hidden in a burst of wrong ones after the limit of wrong verdicts', async () => {
      for (const position of [15, 25]) {
        const { user, codeAt } = await mfaUser();
        const bad = wrongMfaCode(codeAt);
        const good = codeAt(clock.now().getTime());
        await expectNeverAcceptedAfterLimit(user.id, position, (right) =>
          postLogin({ username: user.username, password: PASSWORD, mfa_code: right ? good : bad }),
        );
      }
    });

    it('counts again from zero once a lock lapses, locks again (audited) at the limit, and a success resets', async () => {
      const user = await createUser(t);
      for (let i = 0; i < LIMIT; i++) {
        expect((await postLogin({ username: user.username, password: WRONG })).status).toBe(401);
      }
      expect((await postLogin({ username: user.username, password: PASSWORD })).status).toBe(423);

      clock.advance(15 * 60_000 + 1_000);
      const first = await postLogin({ username: user.username, password: WRONG });
      expect(first.status).toBe(401);
      expect(await failures(user.id)).toBe(1);
      for (let i = 1; i < LIMIT; i++) {
        expect((await postLogin({ username: user.username, password: WRONG })).status).toBe(401);
      }
      const relocked = await postLogin({ username: user.username, password: PASSWORD });
      expect(relocked.status).toBe(423);
      expect(relocked.headers['retry-after']).toBe('900');
      expect(await lockouts(user.id)).toBe(2);

      clock.advance(15 * 60_000 + 1_000);
      expect((await postLogin({ username: user.username, password: WRONG })).status).toBe(401);
      expect((await postLogin({ username: user.username, password: PASSWORD })).status).toBe(200);
      expect(await failures(user.id)).toBe(0);
    });

    it('locks a name without an account, and a disabled account, exactly like an account: the 423 tells none apart', async () => {
      const admin = await createUser(t, { role: 'admin' });
      const user = await createUser(t);
      const disabled = await createUser(t);
      await t.http().patch(`/api/v1/users/${disabled.id}`).set(admin.auth).send({ is_active: false }).expect(200);
      const ghost = uniqueName('ghost');
      for (const username of [user.username, disabled.username, ghost]) {
        for (let i = 0; i < LIMIT; i++) expect((await postLogin({ username, password: WRONG })).status).toBe(401);
      }
      const [known, off, unknown] = await Promise.all(
        [user.username, disabled.username, ghost].map((username) => postLogin({ username, password: PASSWORD })),
      );
      const strip = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
      expect(known!.status).toBe(423);
      expect(strip(off!.body)).toEqual(strip(known!.body));
      expect(strip(unknown!.body)).toEqual(strip(known!.body));
      expect([off!.headers['retry-after'], unknown!.headers['retry-after']]).toEqual(
        Array(2).fill(known!.headers['retry-after']),
      );
      const [lock] = await t.dataSource.query(
        `SELECT details FROM audit_logs WHERE action = 'auth.lockout' AND details->>'attempted_username' = $1`,
        [ghost],
      );
      expect(lock.details).toMatchObject({ failures: LIMIT, minutes: 15 });
      const stored = await t.dataSource.query('SELECT login_hash FROM login_failures');
      expect(JSON.stringify(stored)).not.toContain(ghost);
    });

    it('refuses the password check of a signed-in person with 423 while the account is locked', async () => {
      const user = await createUser(t);
      for (let i = 0; i < LIMIT; i++) await postLogin({ username: user.username, password: WRONG });
      const change = await t
        .http()
        .post('/api/v1/auth/change-password')
        .set(user.auth)
        .send({ current_password: PASSWORD, new_password: 'Another-Horse-7?' });
      expect(change.status).toBe(423);
      expect(change.headers['retry-after']).toBe('900');
      expect(change.body.code).toBe('ACCOUNT_LOCKED');
    });
  });
});
