import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { deriveKeyFromSecret, parseKeyRing } from '#src/crypto/secret-cipher.js';
import { AppConfig, ConfigError, ConfigProblem, NodeEnv } from './config.types.js';
import { databaseTls } from './database-tls.js';
import { secretWeakness } from './secret-strength.js';

type Env = Record<string, string | undefined>;

/** Secrets that production must be given and development may generate. */
export const GENERATED_SECRETS = ['JWT_SECRET', 'ENCRYPTION_KEYS', 'MASTER_SECRETS'] as const;

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

  // Every missing or weak secret is reported at once, not one per attempt to start.
  const production = nodeEnv === 'production';
  const secretRules = new SecretRules(production);
  if (production && !databaseUrl) {
    secretRules.problems.push({
      variable: 'DATABASE_URL',
      message: 'is required in production (the embedded database is for trying the service)',
    });
  }
  const jwtSecret = secretRules.required(secrets, 'JWT_SECRET');
  const encryptionRing = secretRules.requiredRing(secrets, 'ENCRYPTION_KEYS');
  const masterRing = secretRules.requiredRing(secrets, 'MASTER_SECRETS');
  const bootstrapApiKey = secretRules.optional(env, 'API_KEY');
  const metricsToken = secretRules.optional(env, 'METRICS_TOKEN');
  if (secretRules.problems.length > 0) throw ConfigError.all(secretRules.problems);

  const activeKeyId = str(env, 'ENCRYPTION_ACTIVE_KEY_ID') ?? [...encryptionRing.keys()][0];
  if (!encryptionRing.has(activeKeyId)) {
    throw new ConfigError('ENCRYPTION_ACTIVE_KEY_ID', `"${activeKeyId}" is not an id in ENCRYPTION_KEYS`);
  }
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
    // Loopback unless told otherwise; the Docker image and render.yaml set HOST=0.0.0.0.
    host: str(env, 'HOST') ?? '127.0.0.1',
    port: int(env, 'PORT', 3000, 0, 65535),
    dataDir,
    database: {
      url: databaseUrl,
      ssl: databaseTls({
        enabled: bool(env, 'DATABASE_SSL', false),
        rejectUnauthorized: bool(env, 'DATABASE_SSL_REJECT_UNAUTHORIZED', true),
        ca: str(env, 'DATABASE_SSL_CA'),
      }),
      poolSize: int(env, 'DATABASE_POOL_SIZE', 10, 1, 200),
      runMigrations: bool(env, 'RUN_MIGRATIONS', true),
    },
    redisUrl: str(env, 'REDIS_URL'),
    redisTimeoutMs: int(env, 'REDIS_TIMEOUT_MS', 500, 10, 60_000),
    jwt: {
      secret: jwtSecret,
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
    bootstrapApiKey,
    trustProxy: bool(env, 'TRUST_PROXY', false),
    corsOrigins: (str(env, 'CORS_ORIGINS') ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    metricsToken,
    metricsSystemCacheMs: int(env, 'METRICS_SYSTEM_CACHE_MS', 5000, 0, 300_000),
    docsEnabled: bool(env, 'DOCS_ENABLED', true),
    bodyLimitBytes: int(env, 'BODY_LIMIT', 1_048_576, 1024, 50 * 1_048_576),
    requestTimeoutMs: int(env, 'REQUEST_TIMEOUT_MS', 30_000, 1000, 600_000),
    audit: {
      sealIntervalMs: int(env, 'AUDIT_SEAL_INTERVAL_MS', 1000, 50, 3_600_000),
      retentionDays: int(env, 'AUDIT_RETENTION_DAYS', 0, 0, 36_500),
    },
    healthCacheMs: int(env, 'HEALTH_CACHE_MS', 1000, 0, 60_000),
    authCacheTtlMs: int(env, 'AUTH_CACHE_TTL_MS', 2000, 0, 5000),
    rateLimit: {
      defaultPerMinute: int(env, 'RATE_LIMIT_DEFAULT_PER_MINUTE', 600, 1, 1_000_000),
      multiplier: int(env, 'RATE_LIMIT_MULTIPLIER', 1, 1, 1_000_000),
      authFailuresPerMinute: int(env, 'AUTH_FAILURES_PER_MINUTE', 60, 1, 1_000_000),
    },
    stepUpTtlSeconds: int(env, 'STEP_UP_TTL', 300, 30, 3600),
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
    compat: {
      usageKeys: bool(env, 'COMPAT_USAGE_KEYS', false),
      mfaManager: bool(env, 'COMPAT_MFA_MANAGER', false),
      deviceOtp: bool(env, 'COMPAT_DEVICE_OTP', false),
      totpAuth: bool(env, 'COMPAT_TOTP_AUTH', false),
      otpMicroservice: bool(env, 'COMPAT_OTP_MICROSERVICE', false),
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

/**
 * Checks secrets and collects what is wrong with each, so one message can name them all.
 * Every environment needs 32 characters; production also refuses low-entropy values.
 */
class SecretRules {
  readonly problems: ConfigProblem[] = [];

  constructor(private readonly production: boolean) {}

  /** The value, or '' after recording why it is missing or weak. */
  required(env: Env, name: string): string {
    const value = str(env, name);
    if (value === undefined) this.problems.push({ variable: name, message: 'is required' });
    else if (this.acceptable(name, value)) return value;
    return '';
  }

  optional(env: Env, name: string): string | undefined {
    const value = str(env, name);
    return value === undefined || this.acceptable(name, value) ? value : undefined;
  }

  /** A required key ring (`id:secret,...` or one bare secret), each secret checked; empty after a problem. */
  requiredRing(env: Env, name: string): Map<string, string> {
    const spec = str(env, name);
    if (spec === undefined) {
      this.problems.push({ variable: name, message: 'is required' });
      return new Map();
    }
    let ring: Map<string, string>;
    try {
      ring = parseKeyRing(spec);
    } catch (error) {
      this.problems.push({ variable: name, message: (error as Error).message });
      return new Map();
    }
    const weak = [...ring].filter(([id, secret]) => !this.acceptable(name, secret, `secret "${id}" `));
    return weak.length === 0 ? ring : new Map();
  }

  private acceptable(name: string, value: string, subject = ''): boolean {
    const weakness = secretWeakness(value, { entropy: this.production });
    if (weakness) this.problems.push({ variable: name, message: `${subject}${weakness}` });
    return weakness === null;
  }
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
