import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { TestApp } from './test-app.js';

export const PASSWORD = 'Correct-Horse-9!';

export interface TestUser {
  id: string;
  username: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  /** `{ authorization: 'Bearer …' }` for supertest's `.set()`. */
  auth: Record<string, string>;
}

export const uniqueName = (prefix = 'user'): string => `${prefix}_${randomBytes(5).toString('hex')}`;

/** Signs up through the API (promoting to admin by SQL when asked) and logs in. */
export async function createUser(
  t: TestApp,
  options: { role?: 'admin' | 'user'; username?: string } = {},
): Promise<TestUser> {
  const username = options.username ?? uniqueName(options.role ?? 'user');
  const email = `${username}@example.com`;
  const registered = await t.http().post('/api/v1/auth/register').send({ username, email, password: PASSWORD });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  if (options.role === 'admin') {
    await t.dataSource.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [registered.body.id]);
  }
  const session = await login(t, username, PASSWORD);
  return { id: registered.body.id, username, email, password: PASSWORD, ...session };
}

/** Confirms the password again on the user's session (POST auth/step-up), as routes that reveal or replace secrets need. */
export async function stepUp(
  t: TestApp,
  user: Pick<TestUser, 'auth'> & { password?: string },
  mfaCode?: string,
): Promise<void> {
  const res = await t
    .http()
    .post('/api/v1/auth/step-up')
    .set(user.auth)
    .send({ password: user.password ?? PASSWORD, ...(mfaCode ? { mfa_code: mfaCode } : {}) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

export async function login(
  t: TestApp,
  username: string,
  password: string,
): Promise<Pick<TestUser, 'accessToken' | 'refreshToken' | 'auth'>> {
  const res = await t.http().post('/api/v1/auth/login').send({ username, password });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return {
    accessToken: res.body.access_token,
    refreshToken: res.body.refresh_token,
    auth: { authorization: `Bearer ${res.body.access_token}` },
  };
}

/** An API key of `clientId` with the given scopes, issued by an administrator; answers the key (shown once). */
export async function issueApiKey(
  t: TestApp,
  admin: Pick<TestUser, 'auth'>,
  clientId: string,
  scopes: string[],
): Promise<string> {
  const res = await t
    .http()
    .post('/api/v1/api-keys')
    .set(admin.auth)
    .send({ name: uniqueName('key'), client_id: clientId, scopes });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.key;
}

/** A usage-limited key in the space of the client `apiKey` belongs to (it needs `keys:admin`); answers the key. */
export async function createClientUsageKey(
  t: TestApp,
  apiKey: string,
  body: { max_uses: number; name?: string },
): Promise<{ id: string; name: string }> {
  const name = body.name ?? uniqueName('key');
  const res = await t
    .http()
    .post('/api/v1/keys')
    .set('x-api-key', apiKey)
    .send({ ...body, name });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id, name };
}
