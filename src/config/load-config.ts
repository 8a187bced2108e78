import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { deriveKeyFromSecret, parseKeyRing } from '#src/crypto/secret-cipher.js';
import { AppConfig, ConfigError, NodeEnv } from './config.types.js';

type Env = Record<string, string | undefined>;

/** Secrets that production must be given and development may generate. */
export const GENERATED_SECRETS = ['JWT_SECRET', 'ENCRYPTION_KEYS', 'MASTER_SECRETS'] as const;
const MIN_SECRET_LENGTH = 32;

export interface LoadedConfig {
  config: AppConfig;
  /** Things an operator should know about (generated secrets); logged once at start-up. */
  warnings: string[];
}

/**
 * Reads and validates the environment once. Outside production, missing secrets are
 * generated and kept in `DATA_DIR/secrets.json` (mode 0600) so restarts keep working.
 */
export function loadConfig(env: Env, version = '0.0.0'): LoadedConfig {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'], 'development') as NodeEnv;
  const dataDir = resolve(str(env, 'DATA_DIR') ?? './data');
  const warnings: string[] = [];
  const secrets = nodeEnv === 'production' ? env : withDevSecrets(env, dataDir, warnings);
  const databaseUrl = str(env, 'DATABASE_URL');
  if (nodeEnv === 'production' && !databaseUrl) {
    throw new ConfigError(
      'DATABASE_URL',
      'is required in production (the embedded database is for trying the service)',
    );
  }

  const encryptionRing = parseRing('ENCRYPTION_KEYS', requiredSecret(secrets, 'ENCRYPTION_KEYS'));
  const activeKeyId = str(env, 'ENCRYPTION_ACTIVE_KEY_ID') ?? [...encryptionRing.keys()][0];
  if (!encryptionRing.has(activeKeyId)) {
    throw new ConfigError('ENCRYPTION_ACTIVE_KEY_ID', `"${activeKeyId}" is not an id in ENCRYPTION_KEYS`);
  }
  const masterRing = parseRing('MASTER_SECRETS', requiredSecret(secrets, 'MASTER_SECRETS'));
  const masterSecrets = new Map<number, Buffer>();
  for (const [id, secret] of masterRing) {
    const version = id === 'k1' ? 1 : Number(id);
    if (!Number.isInteger(version) || version < 1) {
      throw new ConfigError('MASTER_SECRETS', `version "${id}" must be a positive integer`);
    }
    masterSecrets.set(version, Buffer.from(secret, 'utf8'));
  }
  const activeVersion = int(env, 'MASTER_SECRET_ACTIVE_VERSION', Math.max(...masterSecrets.keys()), 1);
  if (!masterSecrets.has(activeVersion)) {
    throw new ConfigError('MASTER_SECRET_ACTIVE_VERSION', `version ${activeVersion} is not in MASTER_SECRETS`);
  }

  const config: AppConfig = {
    nodeEnv,
    version,
    host: str(env, 'HOST') ?? '0.0.0.0',
    port: int(env, 'PORT', 3000, 0, 65535),
    dataDir,
    database: {
      url: databaseUrl,
      ssl: bool(env, 'DATABASE_SSL', false),
      poolSize: int(env, 'DATABASE_POOL_SIZE', 10, 1, 200),
      runMigrations: bool(env, 'RUN_MIGRATIONS', true),
    },
    redisUrl: str(env, 'REDIS_URL'),
    jwt: {
      secret: requiredSecret(secrets, 'JWT_SECRET'),
      accessTtlSeconds: int(env, 'JWT_ACCESS_TTL', 900, 60, 86_400),
      refreshTtlSeconds: int(env, 'JWT_REFRESH_TTL', 604_800, 300, 7_776_000),
      issuer: str(env, 'JWT_ISSUER') ?? 'otp-service',
      audience: str(env, 'JWT_AUDIENCE') ?? 'otp-service-api',
    },
    encryption: {
      keys: new Map([...encryptionRing].map(([id, secret]) => [id, deriveKeyFromSecret(secret)])),
      activeKeyId,
    },
    masterSecrets: { secrets: masterSecrets, activeVersion },
    admin: {
      username: str(env, 'ADMIN_USERNAME') ?? 'admin',
      email: str(env, 'ADMIN_EMAIL'),
      password: str(env, 'ADMIN_PASSWORD'),
    },
    bootstrapApiKey: optionalSecret(env, 'API_KEY'),
    trustProxy: bool(env, 'TRUST_PROXY', false),
    corsOrigins: (str(env, 'CORS_ORIGINS') ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    metricsToken: optionalSecret(env, 'METRICS_TOKEN'),
    metricsSystemCacheMs: int(env, 'METRICS_SYSTEM_CACHE_MS', 5000, 0, 300_000),
    docsEnabled: bool(env, 'DOCS_ENABLED', true),
    bodyLimitBytes: int(env, 'BODY_LIMIT', 1_048_576, 1024, 50 * 1_048_576),
    requestTimeoutMs: int(env, 'REQUEST_TIMEOUT_MS', 30_000, 1000, 600_000),
    audit: {
      sealIntervalMs: int(env, 'AUDIT_SEAL_INTERVAL_MS', 1000, 50, 3_600_000),
      retentionDays: int(env, 'AUDIT_RETENTION_DAYS', 0, 0, 36_500),
    },
    healthCacheMs: int(env, 'HEALTH_CACHE_MS', 1000, 0, 60_000),
    rateLimit: {
      defaultPerMinute: int(env, 'RATE_LIMIT_DEFAULT_PER_MINUTE', 600, 1, 1_000_000),
      multiplier: int(env, 'RATE_LIMIT_MULTIPLIER', 1, 1, 1_000_000),
    },
    lockout: {
      maxFailedLogins: int(env, 'LOGIN_MAX_FAILURES', 5, 1, 100),
      lockMinutes: int(env, 'LOGIN_LOCK_MINUTES', 15, 1, 1440),
    },
    otp: {
      totpWindow: int(env, 'OTP_TOTP_WINDOW', 1, 0, 10),
      hotpLookAhead: int(env, 'OTP_HOTP_LOOK_AHEAD', 10, 0, 100),
      maxFailures: int(env, 'OTP_MAX_FAILURES', 10, 1, 100),
      lockMinutes: int(env, 'OTP_LOCK_MINUTES', 15, 1, 1440),
    },
    devices: {
      maxFailures: int(env, 'DEVICE_MAX_FAILURES', 10, 1, 100),
      lockMinutes: int(env, 'DEVICE_LOCK_MINUTES', 15, 1, 1440),
    },
  };
  return { config, warnings };
}

function withDevSecrets(env: Env, dataDir: string, warnings: string[]): Env {
  const missing = GENERATED_SECRETS.filter((name) => !str(env, name));
  if (missing.length === 0) return env;
  const file = join(dataDir, 'secrets.json');
  const stored: Record<string, string> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  let changed = false;
  for (const name of missing) {
    if (!stored[name]) {
      stored[name] = randomBytes(32).toString('base64url');
      changed = true;
    }
  }
  if (changed) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(stored, null, 2) + '\n', { mode: 0o600 });
  }
  chmodSync(file, 0o600);
  warnings.push(
    `${missing.join(', ')} not set: using generated development values kept in ${file}. Set them explicitly in production.`,
  );
  return { ...env, ...Object.fromEntries(missing.map((name) => [name, stored[name]])) };
}

function str(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function requiredSecret(env: Env, name: string): string {
  const value = str(env, name);
  if (!value) throw new ConfigError(name, 'is required');
  if (value.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(name, `is too weak: use at least ${MIN_SECRET_LENGTH} random characters`);
  }
  return value;
}

function optionalSecret(env: Env, name: string): string | undefined {
  const value = str(env, name);
  if (value !== undefined && value.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(name, `is too weak: use at least ${MIN_SECRET_LENGTH} random characters`);
  }
  return value;
}

function parseRing(name: string, spec: string): Map<string, string> {
  let ring: Map<string, string>;
  try {
    ring = parseKeyRing(spec);
  } catch (error) {
    throw new ConfigError(name, (error as Error).message);
  }
  for (const [id, secret] of ring) {
    if (secret.length < MIN_SECRET_LENGTH) {
      throw new ConfigError(name, `secret "${id}" is too weak: use at least ${MIN_SECRET_LENGTH} random characters`);
    }
  }
  return ring;
}

function int(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = str(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function oneOf(env: Env, name: string, allowed: readonly string[], fallback: string): string {
  const raw = str(env, name) ?? fallback;
  if (!allowed.includes(raw)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw;
}
