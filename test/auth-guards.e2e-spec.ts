import { createHash, createHmac, createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { Controller, Get, Module } from '@nestjs/common';
import passport from 'passport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationStrategies } from '../src/auth/strategies/application-strategies.js';
import { createUser, TestUser } from './support/identity.js';
import { bootApp, TestApp } from './support/test-app.js';

/** A route someone forgot to give an access rule: neither @Public nor an auth decorator. */
@Controller('access-probe')
class AccessProbeController {
  @Get('undeclared')
  undeclared(): { ok: true } {
    return { ok: true };
  }
}

@Module({ controllers: [AccessProbeController] })
class AccessProbeModule {}

const b64url = (value: object | string): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('authentication guards and strategies', () => {
  let t: TestApp;
  let user: TestUser;
  let claims: Record<string, unknown>;

  beforeAll(async () => {
    t = await bootApp({}, { imports: [AccessProbeModule] });
    user = await createUser(t);
    claims = JSON.parse(Buffer.from(user.accessToken.split('.')[1], 'base64url').toString());
  });
  afterAll(() => t?.close());

  const hmacSigned = (header: object, payload: object, algorithm = 'sha256'): string => {
    const input = `${b64url(header)}.${b64url(payload)}`;
    return `${input}.${createHmac(algorithm, t.config.jwt.secret).update(input).digest('base64url')}`;
  };

  /** Runs the application's JWT strategy through passport, as its guard does. */
  const jwtStrategy = (token: string) =>
    new Promise<{ outcome: 'success' | 'fail' | 'error'; detail: unknown }>((resolve) => {
      const options = t.app.get(ApplicationStrategies).authenticateOptions;
      const request = { headers: { authorization: `Bearer ${token}` } };
      passport.authenticate('jwt', options, (error: unknown, principal: unknown, info: unknown) =>
        resolve(
          error
            ? { outcome: 'error', detail: error }
            : principal
              ? { outcome: 'success', detail: principal }
              : { outcome: 'fail', detail: info },
        ),
      )(request, {}, (error: unknown) => resolve({ outcome: 'error', detail: error }));
    });

  it('closes a route that declares no access rule, whatever the credentials', async () => {
    const key = `otpk_${randomBytes(32).toString('base64url')}`;
    await t.dataSource.query(
      `INSERT INTO api_keys (name, client_id, prefix, key_hash, scopes) VALUES ('probe', 'acme', $1, $2, '{devices:read}')`,
      [key.slice(0, 13), createHash('sha256').update(key).digest('hex')],
    );
    for (const credentials of [{}, user.auth, { 'x-api-key': key }]) {
      const res = await t.http().get('/api/v1/access-probe/undeclared').set(credentials);
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('ACCESS_RULE_MISSING');
    }
  });

  it('accepts a genuine access token through the JWT strategy (control)', async () => {
    const result = await jwtStrategy(user.accessToken);
    expect(result).toEqual({ outcome: 'success', detail: expect.objectContaining({ kind: 'user', userId: user.id }) });
  });

  it.each([
    ['alg "none"', () => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`],
    ['HS512 with the right key', () => hmacSigned({ alg: 'HS512', typ: 'JWT' }, claims, 'sha512')],
    // Algorithm confusion: an RS256 header over an HMAC made with the service's own key.
    ['RS256 over an HMAC of the key', () => hmacSigned({ alg: 'RS256', typ: 'JWT' }, claims)],
    [
      'RS256 signed with some RSA key',
      () => {
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        const input = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url(claims)}`;
        return `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url')}`;
      },
    ],
  ])('has the JWT strategy refuse %s before any session look-up', async (_name, token) => {
    const forged = token();
    const result = await jwtStrategy(forged);
    expect(result.outcome).toBe('fail');
    expect(result.detail).toMatchObject({ name: 'JsonWebTokenError' });
    const res = await t.http().get('/api/v1/users/me').set('authorization', `Bearer ${forged}`);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('INVALID_TOKEN');
  });

  it('refuses an access token without an expiry', async () => {
    const { exp: _exp, ...noExpiry } = claims;
    const res = await t
      .http()
      .get('/api/v1/users/me')
      .set('authorization', `Bearer ${hmacSigned({ alg: 'HS256', typ: 'JWT' }, noExpiry)}`);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('INVALID_TOKEN');
  });
});
