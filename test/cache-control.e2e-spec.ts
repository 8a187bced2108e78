import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, stepUp, TestUser } from './support/identity.js';
import { bootApp, TestApp } from './support/test-app.js';

describe('Cache-Control on answers that carry tokens, secrets or codes', () => {
  let t: TestApp;
  let admin: TestUser;
  let user: TestUser;
  let clientKey: string;

  beforeAll(async () => {
    t = await bootApp();
    admin = await createUser(t, { role: 'admin' });
    user = await createUser(t);
    const key = await t
      .http()
      .post('/api/v1/api-keys')
      .set(admin.auth)
      .send({ name: 'cache', client_id: 'cache-client', scopes: ['keys:use', 'keys:admin'] })
      .expect(201);
    expect(key.headers['cache-control']).toBe('no-store');
    clientKey = key.body.key;
  });
  afterAll(() => t.close());

  const noStore = (res: { headers: Record<string, string> }) => expect(res.headers['cache-control']).toBe('no-store');

  it('sends no-store on login and refresh (tokens)', async () => {
    const login = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: user.username, password: user.password })
      .expect(200);
    noStore(login);
    noStore(await t.http().post('/api/v1/auth/refresh').send({ refresh_token: login.body.refresh_token }).expect(200));
  });

  it('sends no-store on MFA enrolment (secret, URI, QR)', async () => {
    const person = await createUser(t);
    await stepUp(t, person);
    noStore(await t.http().post('/api/v1/auth/mfa/enable').set(person.auth).expect(200));
  });

  it('sends no-store on configuration create (secret) and code generation (code)', async () => {
    const created = await t.http().post('/api/v1/otp/configs').set(user.auth).send({ name: 'cache-acct' }).expect(201);
    noStore(created);
    noStore(
      await t.http().post('/api/v1/otp/generate').set(user.auth).send({ config_id: created.body.id }).expect(200),
    );
  });

  it('sends no-store on keys/code (code)', async () => {
    await t
      .http()
      .post('/api/v1/keys')
      .set('x-api-key', clientKey)
      .send({ name: 'cache-key', max_uses: 2 })
      .expect(201);
    noStore(
      await t.http().post('/api/v1/keys/code').set('x-api-key', clientKey).send({ key: 'cache-key' }).expect(200),
    );
  });

  it('sends no-store on API problems too, and leaves the docs cacheable', async () => {
    noStore(await t.http().get('/api/v1/users/me').expect(401));
    const docs = await t.http().get('/docs/openapi.json').expect(200);
    expect(docs.headers['cache-control']).toBeUndefined();
  });
});
