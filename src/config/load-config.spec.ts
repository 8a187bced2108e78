import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config.types.js';
import { loadConfig } from './load-config.js';

const strong = 'a-long-random-secret-of-at-least-32-chars';
const production = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://db/otp',
  JWT_SECRET: strong,
  ENCRYPTION_KEYS: `k1:${strong}`,
  MASTER_SECRETS: `1:${strong}`,
};

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    return error as ConfigError;
  }
  throw new Error('expected a configuration error');
}

describe('loadConfig', () => {
  it('reads a complete production environment with defaults', () => {
    const { config, warnings } = loadConfig(production);
    expect(config.port).toBe(3000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.jwt.accessTtlSeconds).toBe(900);
    expect(config.encryption.activeKeyId).toBe('k1');
    expect(config.encryption.keys.get('k1')).toHaveLength(32);
    expect(config.masterSecrets.activeVersion).toBe(1);
    expect(warnings).toEqual([]);
  });

  it.each(['JWT_SECRET', 'ENCRYPTION_KEYS', 'MASTER_SECRETS', 'DATABASE_URL'])(
    'refuses production without %s, naming it',
    (variable) => {
      const error = errorOf({ ...production, [variable]: '' });
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.variable).toBe(variable);
      expect(error.message).toContain(variable);
    },
  );

  it('refuses a weak JWT secret', () => {
    expect(errorOf({ ...production, JWT_SECRET: 'short' }).message).toMatch(/JWT_SECRET: is too weak/);
  });

  it('refuses a weak secret inside a key ring, naming the key', () => {
    expect(errorOf({ ...production, ENCRYPTION_KEYS: `k1:${strong},k2:tiny` }).message).toMatch(
      /ENCRYPTION_KEYS: secret "k2" is too weak/,
    );
  });

  it('names every missing or weak production secret in one message, never quoting a value', () => {
    const weak = { repeated: 'k'.repeat(40), pattern: 'Secret-1'.repeat(5), skewed: `${'a'.repeat(44)}b` };
    const error = errorOf({
      NODE_ENV: 'production',
      ENCRYPTION_KEYS: `k1:${strong},k2:${weak.repeated}`,
      MASTER_SECRETS: weak.pattern,
      METRICS_TOKEN: weak.skewed,
      API_KEY: 'too-short',
    });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems.map((p) => p.variable)).toEqual([
      'DATABASE_URL',
      'JWT_SECRET',
      'ENCRYPTION_KEYS',
      'MASTER_SECRETS',
      'API_KEY',
      'METRICS_TOKEN',
    ]);
    expect(error.variable).toBe('DATABASE_URL, JWT_SECRET, ENCRYPTION_KEYS, MASTER_SECRETS, API_KEY, METRICS_TOKEN');
    expect(error.message).toContain('JWT_SECRET: is required');
    expect(error.message).toContain('ENCRYPTION_KEYS: secret "k2" is too weak: one character repeated');
    expect(error.message).toContain('MASTER_SECRETS: secret "k1" is too weak: a 8-character pattern repeated');
    expect(error.message).toMatch(/METRICS_TOKEN: is too weak: about \d+ bits of entropy/);
    expect(error.message).toContain('API_KEY: is too weak: use at least 32 random characters');
    for (const value of Object.values(weak)) expect(error.message).not.toContain(value.slice(0, 8));
  });

  it('refuses low-entropy secrets in production only', () => {
    expect(errorOf({ ...production, JWT_SECRET: 'j'.repeat(48) }).message).toMatch(/JWT_SECRET: is too weak/);
    const dataDir = mkdtempSync(join(tmpdir(), 'otp-config-'));
    const { config } = loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir, JWT_SECRET: 'j'.repeat(48) });
    expect(config.jwt.secret).toBe('j'.repeat(48));
  });

  it('lets a step-up count for STEP_UP_TTL seconds, 300 by default', () => {
    expect(loadConfig(production).config.stepUpTtlSeconds).toBe(300);
    expect(loadConfig({ ...production, STEP_UP_TTL: '120' }).config.stepUpTtlSeconds).toBe(120);
    expect(errorOf({ ...production, STEP_UP_TTL: '5' }).variable).toBe('STEP_UP_TTL');
  });

  it('refuses an active key id that is not in the ring', () => {
    expect(errorOf({ ...production, ENCRYPTION_ACTIVE_KEY_ID: 'k9' }).variable).toBe('ENCRYPTION_ACTIVE_KEY_ID');
  });

  it('uses the newest master secret version unless told otherwise', () => {
    const { config } = loadConfig({ ...production, MASTER_SECRETS: `1:${strong},2:${strong}x` });
    expect(config.masterSecrets.activeVersion).toBe(2);
    expect([...config.masterSecrets.secrets.keys()]).toEqual([1, 2]);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DATABASE_SSL', 'maybe'],
    ['LOG_LEVEL', 'loud'],
    ['NODE_ENV', 'staging'],
    ['METRICS_TOKEN', 'short'],
  ])('names %s when its value %s is invalid', (variable, value) => {
    expect(errorOf({ ...production, [variable]: value }).variable).toBe(variable);
  });

  it('generates missing secrets outside production, once, in a 0600 file', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'otp-config-'));
    const first = loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir });
    const file = join(dataDir, 'secrets.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first.warnings[0]).toMatch(/JWT_SECRET, ENCRYPTION_KEYS, MASTER_SECRETS not set/);
    const second = loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir });
    expect(second.config.jwt.secret).toBe(first.config.jwt.secret);
    expect(second.config.encryption.keys.get('k1')).toEqual(first.config.encryption.keys.get('k1'));
    expect(JSON.parse(readFileSync(file, 'utf8')).JWT_SECRET).toBe(first.config.jwt.secret);
  });

  it('keeps an explicitly set secret instead of the generated one', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'otp-config-'));
    const { config, warnings } = loadConfig({ DATA_DIR: dataDir, JWT_SECRET: strong });
    expect(config.jwt.secret).toBe(strong);
    expect(warnings[0]).not.toContain('JWT_SECRET');
  });
});
