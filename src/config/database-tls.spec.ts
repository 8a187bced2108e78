import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config.types.js';
import { databaseTls } from './database-tls.js';
import { loadConfig } from './load-config.js';

const strong = 'a-long-random-secret-of-at-least-32-chars';
const env = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://db/otp',
  JWT_SECRET: strong,
  ENCRYPTION_KEYS: `k1:${strong}`,
  MASTER_SECRETS: `1:${strong}`,
};
const PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----\n';
const sslOf = (extra: Record<string, string>) => loadConfig({ ...env, ...extra }).config.database.ssl;

function errorOf(extra: Record<string, string>): ConfigError {
  try {
    sslOf(extra);
  } catch (error) {
    return error as ConfigError;
  }
  throw new Error('expected a configuration error');
}

describe(databaseTls.name, () => {
  it('connects without TLS unless DATABASE_SSL is true', () => {
    expect(sslOf({})).toBe(false);
    expect(sslOf({ DATABASE_SSL: 'false' })).toBe(false);
  });

  it('verifies the server certificate by default when TLS is on', () => {
    expect(sslOf({ DATABASE_SSL: 'true' })).toEqual({ rejectUnauthorized: true });
  });

  it('skips the certificate check only when DATABASE_SSL_REJECT_UNAUTHORIZED=false is explicit', () => {
    expect(sslOf({ DATABASE_SSL: 'true', DATABASE_SSL_REJECT_UNAUTHORIZED: 'false' })).toEqual({
      rejectUnauthorized: false,
    });
  });

  it('trusts a private CA given as PEM text, with literal \\n sequences as newlines', () => {
    const text = PEM.trim(); // environment values are trimmed
    expect(sslOf({ DATABASE_SSL: 'true', DATABASE_SSL_CA: PEM })).toEqual({ rejectUnauthorized: true, ca: text });
    expect(sslOf({ DATABASE_SSL: 'true', DATABASE_SSL_CA: text.replaceAll('\n', '\\n') })).toEqual({
      rejectUnauthorized: true,
      ca: text,
    });
  });

  it('trusts a private CA given as the path of a PEM file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'otp-tls-')), 'ca.pem');
    writeFileSync(file, PEM);
    expect(sslOf({ DATABASE_SSL: 'true', DATABASE_SSL_CA: file })).toEqual({ rejectUnauthorized: true, ca: PEM });
  });

  it('names DATABASE_SSL_CA when the file is missing or holds no certificate', () => {
    const missing = errorOf({ DATABASE_SSL: 'true', DATABASE_SSL_CA: '/nonexistent/ca.pem' });
    expect(missing.variable).toBe('DATABASE_SSL_CA');
    expect(missing.message).toContain('cannot read "/nonexistent/ca.pem": ENOENT');
    const file = join(mkdtempSync(join(tmpdir(), 'otp-tls-')), 'not-a-cert.pem');
    writeFileSync(file, 'hello');
    expect(errorOf({ DATABASE_SSL: 'true', DATABASE_SSL_CA: file }).message).toMatch(
      /DATABASE_SSL_CA: must be a PEM certificate/,
    );
  });

  it('refuses TLS settings without DATABASE_SSL=true rather than connecting in clear', () => {
    expect(errorOf({ DATABASE_SSL_CA: PEM }).message).toBe('DATABASE_SSL_CA: applies only with DATABASE_SSL=true');
    expect(errorOf({ DATABASE_SSL_REJECT_UNAUTHORIZED: 'false' }).variable).toBe('DATABASE_SSL_REJECT_UNAUTHORIZED');
  });

  it('names DATABASE_SSL_REJECT_UNAUTHORIZED when it is not a boolean', () => {
    expect(errorOf({ DATABASE_SSL: 'true', DATABASE_SSL_REJECT_UNAUTHORIZED: 'sometimes' }).variable).toBe(
      'DATABASE_SSL_REJECT_UNAUTHORIZED',
    );
  });
});
