import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootApp, TestApp } from './support/test-app.js';
import { ProbeModule } from './support/probe.module.js';

describe('request logs', () => {
  let t: TestApp;
  const lines: string[] = [];

  beforeAll(async () => {
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    t = await bootApp({ LOG_LEVEL: 'info' }, { logDestination: stream, imports: [ProbeModule] });
  });
  afterAll(() => t.close());

  it('writes one JSON line per request with id, method, route, status and latency', async () => {
    await t.http().get('/health').set('x-request-id', 'log-line-1').expect(200);
    const entry = lines.map((line) => JSON.parse(line)).find((e) => e.reqId === 'log-line-1');
    expect(entry).toMatchObject({
      reqId: 'log-line-1',
      request: { method: 'GET', path: '/health' },
      status: 200,
      route: '/health',
      responseTime: expect.any(Number),
    });
  });

  it('never writes credentials, secrets or codes', async () => {
    const secrets = ['Bearer-token-abc123xyz', 'api-key-SECRET-987', 'Passw0rd!Secret', 'JBSWY3DPEHPK3PXP'];
    await t
      .http()
      .post('/api/v1/probe?token=Bearer-token-abc123xyz')
      .set('authorization', `Bearer ${secrets[0]}`)
      .set('x-api-key', secrets[1])
      .set('x-request-id', 'log-line-2')
      .send({ name: 'n', digits: 6, password: secrets[2], secret: secrets[3] });
    const output = lines.join('\n');
    expect(output).toContain('log-line-2');
    for (const secret of secrets) expect(output).not.toContain(secret);
    const entry = lines.map((line) => JSON.parse(line)).find((e) => e.reqId === 'log-line-2');
    expect(entry.request.headers).toMatchObject({ authorization: '[REDACTED]', 'x-api-key': '[REDACTED]' });
  });
});
