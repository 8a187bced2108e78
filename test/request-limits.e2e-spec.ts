import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, PASSWORD, TestUser, uniqueName } from './support/identity.js';
import { Answer, expectProblem } from './support/problem.js';
import { bootApp, TestApp } from './support/test-app.js';

const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** `{"k0":1,"k1":1,…}`: 90,000 keys make 979 KB. */
const manyKeys = (count: number): string => `{${Array.from({ length: count }, (_, i) => `"k${i}":1`).join(',')}}`;

/** Writes raw bytes to the server and reads the one answer (the server closes the connection). */
function rawExchange(port: number, request: string, waitMs = 5000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${waitMs} ms; received: ${received.slice(0, 200)}`));
    }, waitMs);
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const [head, ...rest] = received.split('\r\n\r\n');
      const [statusLine, ...headerLines] = head.split('\r\n');
      const headers = Object.fromEntries(
        headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 2)]),
      );
      const text = rest.join('\r\n\r\n');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: left as text for the assertion to show
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
  });
}

describe('request limits', () => {
  let t: TestApp;
  let port: number;
  let admin: TestUser;
  let user: TestUser;
  let apiKey: string;

  beforeAll(async () => {
    t = await bootApp({ REQUEST_TIMEOUT_MS: '1000' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.getHttpServer().address() as { port: number }).port;
    admin = await createUser(t, { role: 'admin' });
    user = await createUser(t);
    const issued = await t
      .http()
      .post('/api/v1/api-keys')
      .set(admin.auth)
      .send({ name: 'limits', client_id: 'acme', scopes: ['devices:write', 'devices:read', 'keys:admin'] });
    expect(issued.status).toBe(201);
    apiKey = issued.body.key;
  });
  afterAll(() => t.close());

  const postJson = (path: string, text: string, auth: Record<string, string> = {}) =>
    t.http().post(path).set(auth).set('content-type', 'application/json').send(text);

  describe('shape, before validation', () => {
    it('refuses a 1 MB login body of 90,000 unknown keys with BODY_TOO_COMPLEX naming the limit', async () => {
      const body = manyKeys(90_000);
      expect(body.length).toBeGreaterThan(950_000);
      expect(body.length).toBeLessThan(1_048_576);
      const started = performance.now();
      const res = await postJson('/api/v1/auth/login', body);
      const elapsed = performance.now() - started;
      expectProblem(res, 400, 'BODY_TOO_COMPLEX');
      expect(res.body.limit).toEqual({ name: 'object_keys', max: 256 });
      expect(res.body.detail).toContain('256');
      // It took 27 s before the limit; a wide margin keeps this meaningful on a loaded machine.
      expect(elapsed).toBeLessThan(2000);
    });

    it('refuses 50,000 keys on auth/refresh', async () => {
      const res = await postJson('/api/v1/auth/refresh', manyKeys(50_000));
      expectProblem(res, 400, 'BODY_TOO_COMPLEX');
    });

    it('refuses arrays and objects nested 10,000 and 100,000 deep with a 400, not a 500', async () => {
      for (const depth of [33, 10_000, 100_000]) {
        const arrays = await postJson('/api/v1/auth/login', '['.repeat(depth) + ']'.repeat(depth));
        expectProblem(arrays, 400, 'BODY_TOO_COMPLEX');
        expect(arrays.body.limit).toEqual({ name: 'depth', max: 32 });
        const objects = await postJson('/api/v1/auth/login', '{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
        expectProblem(objects, 400, 'BODY_TOO_COMPLEX');
      }
      const ok = await t.http().post('/api/v1/auth/login').send({ username: 'nobody', password: 'Wrong-Password-1!' });
      expect(ok.status).toBe(401);
    });

    it('refuses an array longer than its field allows, or longer than 1,000 items anywhere', async () => {
      const ids = Array.from({ length: 101 }, () => crypto.randomUUID());
      const bulk = await t.http().post('/api/v1/otp/bulk/generate').set(user.auth).send({ config_ids: ids });
      expectProblem(bulk, 400, 'BODY_TOO_COMPLEX');
      expect(bulk.body.limit).toEqual({ name: 'array_items', max: 100 });
      expect(bulk.body.errors[0].field).toBe('config_ids');
      const scopes = await t
        .http()
        .post('/api/v1/api-keys')
        .set(admin.auth)
        .send({ name: 'x', client_id: 'acme', scopes: Array(6).fill('keys:use') });
      expect(scopes.body.limit).toEqual({ name: 'array_items', max: 5 });
      const nested = await t
        .http()
        .post('/api/v1/auth/login')
        .send({ username: [Array(1001).fill(1)], password: 'x' });
      expect(nested.body.limit).toEqual({ name: 'array_items', max: 1000 });
    });

    it('lets a keys/import map hold 10,000 entries and no more, each entry at most 256 fields', async () => {
      const entries = (count: number) =>
        Object.fromEntries(Array.from({ length: count }, (_, i) => [`import-${i}`, { secret: SECRET }]));
      const full = await t
        .http()
        .post('/api/v1/keys/import')
        .set(admin.auth)
        .send({ keys: entries(10_000), dry_run: true });
      expect(full.status, JSON.stringify(full.body).slice(0, 300)).toBe(200);
      expect(full.body).toMatchObject({ dry_run: true, created: 10_000 });
      const over = await t
        .http()
        .post('/api/v1/keys/import')
        .set(admin.auth)
        .send({ keys: entries(10_001), dry_run: true });
      expectProblem(over, 400, 'BODY_TOO_COMPLEX');
      expect(over.body.limit).toEqual({ name: 'object_keys', max: 10_000 });
      const wideEntry = await t
        .http()
        .post('/api/v1/keys/import')
        .set(admin.auth)
        .send({ keys: { wide: JSON.parse(manyKeys(257)) }, dry_run: true });
      expectProblem(wideEntry, 400, 'BODY_TOO_COMPLEX');
      expect(wideEntry.body.errors[0].field).toBe('keys.wide');
    });
  });

  describe('characters', () => {
    it('refuses a NUL character in every kind of string field with INVALID_CHARACTERS naming the field', async () => {
      const nul = 'a\u0000b';
      const config = await t
        .http()
        .post('/api/v1/otp/configs')
        .set(user.auth)
        .send({ name: uniqueName('cfg') });
      expect(config.status).toBe(201);
      const cases: Array<[string, () => PromiseLike<Answer & { body: { errors?: Array<{ field: string }> } }>]> = [
        ['username', () => t.http().post('/api/v1/auth/login').send({ username: nul, password: 'x' })],
        [
          'department',
          () =>
            t
              .http()
              .post('/api/v1/auth/register')
              .send({
                username: uniqueName('reg'),
                email: `${uniqueName('reg')}@example.com`,
                password: PASSWORD,
                department: nul,
              }),
        ],
        ['job_title', () => t.http().patch('/api/v1/users/me').set(user.auth).send({ job_title: nul })],
        ['department', () => t.http().patch(`/api/v1/users/${user.id}`).set(admin.auth).send({ department: nul })],
        [
          'label',
          () =>
            t
              .http()
              .post('/api/v1/devices/register')
              .set('x-api-key', apiKey)
              .send({ device_id: uniqueName('d'), user_id: 'u1', label: nul }),
        ],
        ['name', () => t.http().post('/api/v1/otp/configs').set(user.auth).send({ name: nul })],
        ['name', () => t.http().patch(`/api/v1/otp/configs/${config.body.id}`).set(user.auth).send({ name: nul })],
        ['action', () => t.http().get('/api/v1/audit/logs?action=a%00b').set(admin.auth)],
        ['actor_id', () => t.http().get('/api/v1/audit/export?actor_id=%00').set(admin.auth)],
        ['search', () => t.http().get('/api/v1/users?search=a%00b').set(admin.auth)],
        ['search', () => t.http().get('/api/v1/otp/configs?search=%00').set(user.auth)],
        ['name', () => t.http().get('/api/v1/keys/a%00b').set(admin.auth)],
      ];
      for (const [field, send] of cases) {
        const res = await send();
        expectProblem(res, 400, 'INVALID_CHARACTERS');
        expect(res.body.errors?.[0].field).toBe(field);
      }
    });

    it('refuses unpaired UTF-16 surrogates in a login username, and in a field name, but not surrogate pairs', async () => {
      for (const text of ['{"username":"a\\ud800b","password":"x"}', '{"username":"\\udc00","password":"x"}']) {
        const res = await postJson('/api/v1/auth/login', text);
        expectProblem(res, 400, 'INVALID_CHARACTERS');
        expect(res.body.errors[0].field).toBe('username');
      }
      const name = await t
        .http()
        .post('/api/v1/keys/import')
        .set(admin.auth)
        .send({ keys: { ['key\u0000']: { secret: SECRET } }, dry_run: true });
      expectProblem(name, 400, 'INVALID_CHARACTERS');
      const pair = await t.http().post('/api/v1/auth/login').send({ username: 'rocket🚀', password: 'Wrong-1!' });
      expect(pair.status).toBe(401);
      const stored = await t.http().patch('/api/v1/users/me').set(user.auth).send({ department: 'Zoë 🚀' });
      expect(stored.status).toBe(200);
      expect(stored.body.department).toBe('Zoë 🚀');
    });
  });

  describe('integer and timestamp bounds', () => {
    it('refuses max_uses beyond a 32-bit integer on create, update and import, and a page offset of 1e20', async () => {
      const name = uniqueName('bounded');
      const create = await t.http().post('/api/v1/keys').set(admin.auth).send({ name, max_uses: 1e10 });
      expectProblem(create, 400, 'VALIDATION_FAILED');
      expect(create.body.errors[0].field).toBe('max_uses');
      expect((await t.http().post('/api/v1/keys').set(admin.auth).send({ name, max_uses: 2147483647 })).status).toBe(
        201,
      );
      const update = await t.http().patch(`/api/v1/keys/${name}`).set(admin.auth).send({ max_uses: 2147483648 });
      expectProblem(update, 400, 'VALIDATION_FAILED');
      const imported = await t
        .http()
        .post('/api/v1/keys/import')
        .set(admin.auth)
        .send({ keys: { [uniqueName('imp')]: { secret: SECRET, max_uses: 1e10 } } });
      expect(imported.status).toBe(200);
      expect(imported.body.results[0]).toMatchObject({ status: 'invalid' });
      expect(imported.body.results[0].errors.join()).toContain('max_uses');
      for (const offset of ['1e20', '2147483648', '-1', '1.5']) {
        const res = await t.http().get(`/api/v1/users?offset=${offset}`).set(admin.auth);
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(res.body.errors[0].field).toBe('offset');
      }
      expect((await t.http().get('/api/v1/users?offset=2147483647').set(admin.auth)).status).toBe(200);
    });

    it('refuses timestamps outside the years 1 to 9999', async () => {
      const far = '-100000-01-01T00:00:00Z';
      const key = await t
        .http()
        .post('/api/v1/keys')
        .set(admin.auth)
        .send({ name: uniqueName('k'), expires_at: far });
      expectProblem(key, 400, 'VALIDATION_FAILED');
      expect(key.body.errors[0].field).toBe('expires_at');
      const apiKeyExpiry = await t
        .http()
        .post('/api/v1/api-keys')
        .set(admin.auth)
        .send({ name: 'x', client_id: 'acme', scopes: ['keys:use'], expires_at: -8.6e15 });
      expectProblem(apiKeyExpiry, 400, 'VALIDATION_FAILED');
      const audit = await t
        .http()
        .get(`/api/v1/audit/logs?from=${encodeURIComponent(far)}`)
        .set(admin.auth);
      expectProblem(audit, 400, 'VALIDATION_FAILED');
    });
  });

  describe("Fastify's and Node.js's own errors", () => {
    it('answers each with problem details, the request id and the security headers', async () => {
      const answers: Array<[number, string, Answer]> = [
        [
          414,
          'URI_TOO_LONG',
          await t
            .http()
            .get(`/api/v1/users/${'a'.repeat(300)}`)
            .set(admin.auth),
        ],
        [400, 'BAD_REQUEST', await t.http().get('/api/v1/users/%zz').set(admin.auth)],
        [400, 'MALFORMED_JSON', await postJson('/api/v1/auth/login', '{"username": ')],
        [404, 'NOT_FOUND', await t.http().get('/api/v1/nowhere')],
        [404, 'NOT_FOUND', await t.http().put('/health')],
        [413, 'PAYLOAD_TOO_LARGE', await postJson('/api/v1/auth/login', `"${'x'.repeat(1_100_000)}"`)],
        [
          415,
          'UNSUPPORTED_MEDIA_TYPE',
          await t.http().post('/api/v1/auth/login').set('content-type', 'application/xml').send('<a/>'),
        ],
        [415, 'UNSUPPORTED_MEDIA_TYPE', await t.http().post('/api/v1/auth/login').type('form').send('username=a')],
        [415, 'UNSUPPORTED_MEDIA_TYPE', await t.http().post('/api/v1/auth/login').type('text').send('username')],
      ];
      for (const [status, code, answer] of answers) expectProblem(answer, status, code);
      const traced = await t
        .http()
        .get(`/api/v1/keys/${'k'.repeat(300)}`)
        .set('x-request-id', 'trace-414');
      expect(traced.body.requestId).toBe('trace-414');
    });

    it('routes path segments up to 256 characters, so a 128-character device id is addressable', async () => {
      const deviceId = `d${'x'.repeat(127)}`;
      const registered = await t
        .http()
        .post('/api/v1/devices/register')
        .set('x-api-key', apiKey)
        .send({ device_id: deviceId, user_id: 'u1' });
      expect(registered.status).toBe(201);
      const got = await t.http().get(`/api/v1/devices/${deviceId}`).set('x-api-key', apiKey);
      expect(got.status).toBe(200);
      expect(got.body.device_id).toBe(deviceId);
      const tooLong = await t
        .http()
        .get(`/api/v1/devices/${'d'.repeat(200)}`)
        .set('x-api-key', apiKey);
      expectProblem(tooLong, 400, 'VALIDATION_FAILED');
    });

    it('answers a body that does not arrive within REQUEST_TIMEOUT_MS with a 408 problem carrying its request id', async () => {
      const answer = await rawExchange(
        port,
        'POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: slow-body-1\r\n' +
          'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"username":',
      );
      expectProblem(answer, 408, 'REQUEST_TIMEOUT');
      expect(answer.headers['x-request-id']).toBe('slow-body-1');
    });

    it('answers a request that is not HTTP, and oversized headers, with problem details', async () => {
      expectProblem(await rawExchange(port, 'NOT HTTP AT ALL\r\n\r\n'), 400, 'BAD_REQUEST');
      const big = await rawExchange(
        port,
        `GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      );
      expectProblem(big, 431, 'HEADERS_TOO_LARGE');
    });
  });
});
