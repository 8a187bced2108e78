import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { startServer } from '../src/server.js';
import { ProbeModule, slowRequests } from './support/probe.module.js';
import { testConfig } from './support/test-app.js';

describe('graceful shutdown', () => {
  it('lets an in-flight request finish, then stops accepting connections', async () => {
    const server = await startServer({ ...testConfig(), port: 0, host: '127.0.0.1' }, { imports: [ProbeModule] });
    const started = once(slowRequests, 'started');
    const inFlight = fetch(`${server.url}/api/v1/probe/slow?ms=400`);
    await started; // the request is in the handler
    const closed = server.close();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ done: true });
    await closed;
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();
  });
});
