import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootApp, TestApp } from './support/test-app.js';
import { ProbeModule } from './support/probe.module.js';

describe('common HTTP behaviour', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await bootApp({ BODY_LIMIT: '2048', CORS_ORIGINS: 'https://console.example.com' }, { imports: [ProbeModule] });
  });
  afterAll(() => t.close());

  const expectProblem = (body: Record<string, unknown>, status: number, code: string): void => {
    expect(body).toMatchObject({ status, code, title: expect.any(String), detail: expect.any(String) });
    expect(body.type).toBe(`urn:problem-type:otp-service:${code.toLowerCase().replaceAll('_', '-')}`);
    expect(body.requestId).toEqual(expect.any(String));
  };

  it('accepts a valid body', async () => {
    const res = await t.http().post('/api/v1/probe').send({ name: 'a', digits: 6 }).expect(201);
    expect(res.body).toEqual({ name: 'a', digits: 6 });
  });

  it('answers malformed JSON with a 400 problem', async () => {
    const res = await t.http().post('/api/v1/probe').set('content-type', 'application/json').send('{"name": ');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expectProblem(res.body, 400, 'MALFORMED_JSON');
  });

  it('answers an oversized body with a 413 problem', async () => {
    const res = await t
      .http()
      .post('/api/v1/probe')
      .send({ name: 'x'.repeat(4096), digits: 6 });
    expect(res.status).toBe(413);
    expectProblem(res.body, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('rejects unknown fields instead of ignoring them', async () => {
    const res = await t.http().post('/api/v1/probe').send({ name: 'a', digits: 6, role: 'admin' });
    expect(res.status).toBe(400);
    expectProblem(res.body, 400, 'VALIDATION_FAILED');
    expect(res.body.errors).toEqual([{ field: 'role', messages: ['property role should not exist'] }]);
  });

  it('lists every invalid field, nested ones by path', async () => {
    const res = await t
      .http()
      .post('/api/v1/probe')
      .send({ name: 7, digits: '9', inner: { label: 3 } });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['digits', 'inner.label', 'name']);
  });

  it('answers an unsupported media type with a 415 problem', async () => {
    const res = await t.http().post('/api/v1/probe').set('content-type', 'application/xml').send('<a/>');
    expect(res.status).toBe(415);
    expectProblem(res.body, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers an unknown route with a 404 problem', async () => {
    const res = await t.http().get('/api/v1/nowhere');
    expect(res.status).toBe(404);
    expectProblem(res.body, 404, 'NOT_FOUND');
  });

  it('answers an unexpected error with a 500 problem that reveals nothing', async () => {
    const res = await t.http().get('/api/v1/probe/boom');
    expect(res.status).toBe(500);
    expectProblem(res.body, 500, 'INTERNAL_ERROR');
    expect(JSON.stringify(res.body)).not.toContain('internal detail');
  });

  it('caps the page size at 100 and defaults it to 20', async () => {
    expect((await t.http().get('/api/v1/probe/page')).body).toEqual({ limit: 20, offset: 0 });
    expect((await t.http().get('/api/v1/probe/page?limit=100&offset=5')).body).toEqual({ limit: 100, offset: 5 });
    const res = await t.http().get('/api/v1/probe/page?limit=101');
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('limit');
  });

  it('echoes a well-formed X-Request-Id and generates one otherwise', async () => {
    const given = await t.http().get('/health').set('x-request-id', 'abc-123');
    expect(given.headers['x-request-id']).toBe('abc-123');
    const generated = await t.http().get('/health').set('x-request-id', 'bad id with spaces');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const problem = await t.http().get('/api/v1/nowhere').set('x-request-id', 'trace-42');
    expect(problem.body.requestId).toBe('trace-42');
  });

  it('makes the request context (id, ip, user agent) available to handlers', async () => {
    const res = await t.http().get('/api/v1/probe/context').set('x-request-id', 'ctx-1').set('user-agent', 'probe/1');
    expect(res.body.context).toEqual({ requestId: 'ctx-1', ip: res.body.ip, userAgent: 'probe/1' });
  });

  it('ignores X-Forwarded-For unless a trusted proxy is configured', async () => {
    const res = await t.http().get('/api/v1/probe/context').set('x-forwarded-for', '203.0.113.9');
    expect(res.body.ip).not.toBe('203.0.113.9');
    const proxied = await bootApp({ TRUST_PROXY: 'true' }, { imports: [ProbeModule] });
    try {
      const behindProxy = await proxied.http().get('/api/v1/probe/context').set('x-forwarded-for', '203.0.113.9');
      expect(behindProxy.body.ip).toBe('203.0.113.9');
    } finally {
      await proxied.close();
    }
  });

  it('sends security headers (HSTS, no sniffing, CSP)', async () => {
    const res = await t.http().get('/health');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    const docs = await t.http().get('/docs/openapi.json');
    expect(docs.headers['content-security-policy']).toContain("script-src 'self' 'unsafe-inline'");
  });

  it('allows CORS only for configured origins', async () => {
    const allowed = await t.http().get('/health').set('origin', 'https://console.example.com');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://console.example.com');
    const other = await t.http().get('/health').set('origin', 'https://evil.example.net');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
