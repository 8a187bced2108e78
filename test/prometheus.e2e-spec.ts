import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../src/metrics/metrics-registry.js';
import { decodeBase32 } from '../src/otp/base32.js';
import { generateTotp } from '../src/otp/otp-engine.js';
import { createUser, PASSWORD, stepUp } from './support/identity.js';
import { bootApp, TestApp, testSecret } from './support/test-app.js';

/**
 * One sample line of the text exposition format 0.0.4: name{labels} value [timestamp]. Values
 * are Go floats, so Inf and NaN in any case (prom-client writes "Nan").
 */
const SAMPLE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*,?\})? (?:[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|[-+]?[Ii][Nn][Ff]|[Nn][Aa][Nn])(?: -?\d+)?$/;
const COMMENT =
  /^# (?:HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (?:counter|gauge|histogram|summary|untyped))$/;

/** Parses the exposition strictly: every line must be a sample, HELP/TYPE or blank; answers series → value. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      expect(line, 'comment line').toMatch(COMMENT);
      continue;
    }
    expect(line, 'sample line').toMatch(SAMPLE);
    const cut = line.lastIndexOf(' ');
    samples.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return samples;
}

describe('Prometheus /metrics', () => {
  const token = testSecret();
  let t: TestApp;
  const scrape = async (): Promise<Map<string, number>> => {
    const res = await t.http().get('/metrics').set('authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(res.text);
  };
  const value = (samples: Map<string, number>, series: string): number => samples.get(series) ?? 0;

  beforeAll(async () => {
    t = await bootApp({ METRICS_TOKEN: token });
  });
  afterAll(() => t.close());

  it('refuses a scrape without the token or with a wrong one (401)', async () => {
    const missing = await t.http().get('/metrics');
    expect(missing.status).toBe(401);
    expect(missing.body.code).toBe('METRICS_TOKEN_REQUIRED');
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await t.http().get('/metrics').set('authorization', `Bearer ${testSecret()}`)).status).toBe(401);
    expect((await t.http().get('/metrics').set('authorization', token)).status).toBe(401);
    // It lives outside the API prefix.
    expect((await t.http().get('/api/v1/metrics').set('authorization', `Bearer ${token}`)).status).toBe(404);
  });

  it('answers valid exposition text whose counters move with the requests made', async () => {
    const user = await createUser(t);
    const before = await scrape();
    for (let i = 0; i < 3; i++) {
      expect((await t.http().get('/api/v1/users/me').set(user.auth)).status).toBe(200);
    }
    expect((await t.http().get('/api/v1/users/me')).status).toBe(401);
    await t.http().post('/api/v1/auth/login').send({ username: user.username, password: PASSWORD }).expect(200);
    await t
      .http()
      .post('/api/v1/auth/login')
      .send({ username: user.username, password: 'Wrong-Password-1!' })
      .expect(401);
    await t.http().post('/api/v1/auth/login').send({ username: 'nobody_here', password: PASSWORD }).expect(401);
    // An OTP configuration: one accepted code, one wrong one.
    const config = await t.http().post('/api/v1/otp/configs').set(user.auth).send({ name: 'metrics' }).expect(201);
    const generated = await t.http().post('/api/v1/otp/generate').set(user.auth).send({ config_id: config.body.id });
    const code = generated.body.code as string;
    const validate = (otp: string) =>
      t.http().post('/api/v1/otp/validate').set(user.auth).send({ config_id: config.body.id, otp_code: otp });
    expect((await validate(code)).body.is_valid).toBe(true);
    const wrong = String((Number(code) + 500_000) % 1_000_000).padStart(6, '0');
    expect((await validate(wrong)).body.is_valid).toBe(false);
    const after = await scrape();

    const meCount = (status: number): string =>
      `http_request_duration_seconds_count{method="GET",route="/api/v1/users/me",status_code="${status}"}`;
    expect(value(after, meCount(200)) - value(before, meCount(200))).toBe(3);
    expect(value(after, meCount(401)) - value(before, meCount(401))).toBe(1);
    const inf = `http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/api/v1/users/me",status_code="200"}`;
    expect(value(after, inf)).toBe(value(after, meCount(200)));

    const logins = (outcome: string): number =>
      value(after, `auth_logins_total{outcome="${outcome}"}`) -
      value(before, `auth_logins_total{outcome="${outcome}"}`);
    expect(logins('success')).toBe(1);
    expect(logins('bad_password')).toBe(1);
    expect(logins('unknown_user')).toBe(1);
    const verifications = (outcome: string): number =>
      value(after, `otp_verifications_total{kind="config",outcome="${outcome}"}`) -
      value(before, `otp_verifications_total{kind="config",outcome="${outcome}"}`);
    expect(verifications('success')).toBe(1);
    expect(verifications('failure')).toBe(1);

    // Pool gauges and process metrics are present.
    expect(after.get('db_pool_connections_total')).toBeGreaterThanOrEqual(1);
    expect(after.get('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(after.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('counts MFA code checks by outcome', async () => {
    const user = await createUser(t);
    await stepUp(t, user);
    const enrol = await t.http().post('/api/v1/auth/mfa/enable').set(user.auth).expect(200);
    const secret = decodeBase32(enrol.body.mfa_secret);
    const code = generateTotp({ secret, algorithm: 'sha1', digits: 6, period: 30, now: Date.now() }).code;
    const wrong = String((Number(code) + 500_000) % 1_000_000).padStart(6, '0');
    const before = await scrape();
    const confirm = (otp: string) => t.http().post('/api/v1/auth/mfa/verify').set(user.auth).send({ code: otp });
    expect((await confirm(wrong)).status).toBe(400);
    expect((await confirm(code)).status).toBe(200);
    const after = await scrape();
    const mfa = (outcome: string): number =>
      value(after, `otp_verifications_total{kind="mfa",outcome="${outcome}"}`) -
      value(before, `otp_verifications_total{kind="mfa",outcome="${outcome}"}`);
    expect(mfa('failure')).toBe(1);
    expect(mfa('success')).toBe(1);
  });

  it('exports the counters other modules record', async () => {
    const metrics = t.app.get(MetricsRegistry);
    const before = await scrape();
    metrics.otpVerification('device', 'success');
    metrics.otpVerification('device', 'failure');
    metrics.otpVerification('device', 'failure');
    metrics.keyUse('depleted');
    const after = await scrape();
    const delta = (series: string): number => value(after, series) - value(before, series);
    expect(delta('otp_verifications_total{kind="device",outcome="success"}')).toBe(1);
    expect(delta('otp_verifications_total{kind="device",outcome="failure"}')).toBe(2);
    expect(delta('usage_key_uses_total{outcome="depleted"}')).toBe(1);
  });
});

describe('Prometheus /metrics without METRICS_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await bootApp({ METRICS_TOKEN: undefined });
  });
  afterAll(() => t.close());

  it('is off (404), with or without a bearer token', async () => {
    expect((await t.http().get('/metrics')).status).toBe(404);
    expect((await t.http().get('/metrics').set('authorization', `Bearer ${testSecret()}`)).status).toBe(404);
  });
});
