import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { ThrottlerStorage } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RATE_LIMIT_POLICIES } from '#src/common/rate-limit/rate-limit.policies.js';
import { callerTracker, usernameTracker } from '#src/common/rate-limit/rate-limit.trackers.js';
import { MemoryThrottlerStorage } from '#src/common/rate-limit/memory-throttler.storage.js';
import { RedisThrottlerStorage } from '#src/common/rate-limit/redis-throttler.storage.js';
import { RateLimitProbeModule } from './support/rate-limit-probe.module.js';
import { bootApp, TestApp } from './support/test-app.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PROBE = '/api/v1/rate-limit-probe';
// Real limits (no test multiplier); a trusted X-Forwarded-For gives each test its own address.
const ENV = { REDIS_URL, RATE_LIMIT_MULTIPLIER: '1', RATE_LIMIT_DEFAULT_PER_MINUTE: '3', TRUST_PROXY: 'true' };

/** Random per run, so reruns within a window never meet an earlier run's counts in Redis. */
const randomIp = (): string => `10.${[...randomBytes(3)].join('.')}`;
const randomUsername = (): string => `rl_${randomBytes(6).toString('hex')}`;

function expectRateLimited(res: Response, maxSeconds: number): void {
  expect(res.status).toBe(429);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({
    status: 429,
    code: 'RATE_LIMITED',
    type: 'urn:problem-type:otp-service:rate-limited',
  });
  const retryAfter = res.headers['retry-after'];
  expect(retryAfter).toMatch(/^[1-9]\d*$/);
  expect(Number(retryAfter)).toBeLessThanOrEqual(maxSeconds);
  expect(res.body.retry_after).toBe(Number(retryAfter));
  expect(res.body.detail).toBe(`Too many requests; retry after ${retryAfter} seconds`);
}

describe('rate limits', () => {
  let one: TestApp;
  let two: TestApp;

  beforeAll(async () => {
    // Two instances on one Redis, as when the service is scaled out (booted in turn: both migrate).
    one = await bootApp(ENV, { imports: [RateLimitProbeModule] });
    two = await bootApp(ENV, { imports: [RateLimitProbeModule] });
  });
  afterAll(async () => {
    await Promise.all([one?.close(), two?.close()]);
  });

  const register = (t: TestApp, ip: string) => t.http().post(`${PROBE}/register`).set('x-forwarded-for', ip).send({});
  const login = (t: TestApp, username: string, ip = randomIp()) =>
    t.http().post(`${PROBE}/login`).set('x-forwarded-for', ip).send({ username });

  it('uses the Redis storage when REDIS_URL is set', () => {
    expect(one.app.get(ThrottlerStorage)).toBeInstanceOf(RedisThrottlerStorage);
  });

  it('refuses the 4th registration from one address within the hour', async () => {
    const ip = randomIp();
    for (let i = 0; i < 3; i++) await register(one, ip).expect(200);
    expectRateLimited(await register(one, ip), 3600);
    await register(one, randomIp()).expect(200);
  });

  it('limits logins per username, whatever the address', async () => {
    const alice = randomUsername();
    const bob = randomUsername();
    for (let i = 0; i < 5; i++) await login(one, alice).expect(200);
    expectRateLimited(await login(one, alice), 300);
    // Case and spacing do not make a new account name.
    expectRateLimited(await login(one, `  ${alice.toUpperCase()} `), 300);
    await login(one, bob).expect(200);
  });

  it('shares the counts between instances', async () => {
    const carol = randomUsername();
    for (let i = 0; i < 5; i++) await login(one, carol).expect(200);
    expectRateLimited(await login(two, carol), 300);
  });

  it('applies the default limit per caller elsewhere, with rate-limit headers', async () => {
    const ip = randomIp();
    const first = await one.http().get(`${PROBE}/ping`).set('x-forwarded-for', ip).expect(200);
    expect(first.headers['x-ratelimit-limit']).toBe('3');
    expect(first.headers['x-ratelimit-remaining']).toBe('2');
    await two.http().get(`${PROBE}/ping`).set('x-forwarded-for', ip).expect(200);
    await one.http().get(`${PROBE}/ping`).set('x-forwarded-for', ip).expect(200);
    expectRateLimited(await two.http().get(`${PROBE}/ping`).set('x-forwarded-for', ip), 60);
  });

  it('never limits the health check that load balancers poll', async () => {
    const ip = randomIp();
    for (let i = 0; i < 5; i++) await one.http().get('/health').set('x-forwarded-for', ip).expect(200);
    // The same caller is limited on the info route next to it.
    for (let i = 0; i < 3; i++) await one.http().get('/').set('x-forwarded-for', ip).expect(200);
    expectRateLimited(await one.http().get('/').set('x-forwarded-for', ip), 60);
  });

  it('quits its Redis connection when the app closes', async () => {
    const t = await bootApp(ENV, { imports: [RateLimitProbeModule] });
    const { client } = t.app.get<RedisThrottlerStorage>(ThrottlerStorage);
    await t.http().get(`${PROBE}/ping`).set('x-forwarded-for', randomIp()).expect(200);
    const ended = once(client, 'end');
    await t.close();
    await ended;
  });
});

describe('rate limits without Redis', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await bootApp({ ...ENV, REDIS_URL: undefined }, { imports: [RateLimitProbeModule] });
  });
  afterAll(() => t?.close());

  it('counts in memory', async () => {
    expect(t.app.get(ThrottlerStorage)).toBeInstanceOf(MemoryThrottlerStorage);
    const dave = randomUsername();
    for (let i = 0; i < 5; i++) await t.http().post(`${PROBE}/login`).send({ username: dave }).expect(200);
    expectRateLimited(await t.http().post(`${PROBE}/login`).send({ username: dave }), 300);
  });
});

describe('rate-limit trackers and policies', () => {
  const request = (fields: Partial<FastifyRequest>): FastifyRequest =>
    ({ ip: '203.0.113.7', ...fields }) as FastifyRequest;

  it('key on the caller, else the address', () => {
    const user = { kind: 'user', userId: 'u1', username: 'a', role: 'user', sessionId: 's', stepUpAt: null } as const;
    const key = { kind: 'api_key', apiKeyId: 'k1', clientId: 'c', scopes: [] } as const;
    expect(callerTracker(request({ principal: user }))).toBe('user:u1');
    expect(callerTracker(request({ principal: key }))).toBe('key:k1');
    expect(callerTracker(request({}))).toBe('ip:203.0.113.7');
    // IPv6 callers by /64; IPv4-mapped addresses as plain IPv4.
    expect(callerTracker(request({ ip: '2001:db8:1:2:3:4:5:6' }))).toBe(
      callerTracker(request({ ip: '2001:db8:1:2:ffff::1' })),
    );
    expect(callerTracker(request({ ip: '::ffff:203.0.113.7' }))).toBe('ip:203.0.113.7');
  });

  it('key logins on the normalised username, else the address', () => {
    expect(usernameTracker(request({ body: { username: ' Alice ' } }))).toBe('username:alice');
    expect(usernameTracker(request({ body: { username: '  ' } }))).toBe('ip:203.0.113.7');
    expect(usernameTracker(request({ body: undefined }))).toBe('ip:203.0.113.7');
  });

  it('publish their limits', () => {
    const table = Object.fromEntries(
      Object.entries(RATE_LIMIT_POLICIES).map(([name, { limit, ttl }]) => [name, { limit, ttl }]),
    );
    expect(table).toEqual({
      register: { limit: 3, ttl: 3_600_000 },
      login: { limit: 5, ttl: 300_000 },
      otpGenerate: { limit: 30, ttl: 60_000 },
      otpValidate: { limit: 20, ttl: 60_000 },
      configCreate: { limit: 10, ttl: 3_600_000 },
      mfaVerify: { limit: 10, ttl: 300_000 },
    });
  });
});
