import type { DatabaseTls } from './database-tls.js';

export type NodeEnv = 'development' | 'production' | 'test';

/** The validated, typed configuration the whole service reads; built once at start-up. */
export interface AppConfig {
  readonly nodeEnv: NodeEnv;
  readonly version: string;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly database: {
    /** Unset: the embedded PGlite database under `dataDir` is used. */
    readonly url?: string;
    /** TLS options for the driver, or false (DATABASE_SSL unset). */
    readonly ssl: DatabaseTls;
    readonly poolSize: number;
    readonly runMigrations: boolean;
  };
  readonly redisUrl?: string;
  /** Longest wait for Redis (connecting, one rate-limit step) before counting in memory, milliseconds. */
  readonly redisTimeoutMs: number;
  readonly jwt: {
    readonly secret: string;
    readonly accessTtlSeconds: number;
    readonly refreshTtlSeconds: number;
    readonly issuer: string;
    readonly audience: string;
  };
  /** AES-256-GCM key ring for secrets at rest: key id → 32-byte key. */
  readonly encryption: { readonly keys: ReadonlyMap<string, Buffer>; readonly activeKeyId: string };
  /** Device master secrets: version → secret bytes. */
  readonly masterSecrets: { readonly secrets: ReadonlyMap<number, Buffer>; readonly activeVersion: number };
  readonly admin: { readonly username: string; readonly email?: string; readonly password?: string };
  readonly bootstrapApiKey?: string;
  readonly trustProxy: boolean;
  readonly corsOrigins: readonly string[];
  readonly logLevel: string;
  readonly metricsToken?: string;
  /** How long GET metrics/system reuses its figures, milliseconds (0 = compute on every call). */
  readonly metricsSystemCacheMs: number;
  readonly docsEnabled: boolean;
  readonly bodyLimitBytes: number;
  /** Time to receive a whole request (headers and body), milliseconds; 408 after it. */
  readonly requestTimeoutMs: number;
  readonly audit: {
    readonly sealIntervalMs: number;
    /** Audit rows older than this many days are pruned (chain anchored); 0 keeps them forever. */
    readonly retentionDays: number;
  };
  readonly rateLimit: {
    /** Requests per minute per caller (user, API key or IP) on routes without a stricter policy. */
    readonly defaultPerMinute: number;
    /** Scales every limit (load tests); 1 in production. */
    readonly multiplier: number;
    /**
     * Refused requests (401/403) per client address per minute; past it the address gets 429
     * before any credential is tried, and its refusals are audited as one count a minute.
     */
    readonly authFailuresPerMinute: number;
  };
  /** How long a step-up (POST auth/step-up) lets a session reveal or replace secrets, seconds. */
  readonly stepUpTtlSeconds: number;
  readonly lockout: {
    /** Consecutive failed logins that lock an account. */
    readonly maxFailedLogins: number;
    readonly lockMinutes: number;
  };
  readonly otp: {
    /** TOTP steps accepted either side of now. */
    readonly totpWindow: number;
    /** HOTP counters tried past the expected one. */
    readonly hotpLookAhead: number;
    /** Consecutive failed validations that lock a configuration. */
    readonly maxFailures: number;
    readonly lockMinutes: number;
  };
  readonly devices: {
    /** Consecutive failed verifications that lock a device. */
    readonly maxFailures: number;
    readonly lockMinutes: number;
  };
  /** How long a database health result is reused, milliseconds. */
  readonly healthCacheMs: number;
  /**
   * At most how long a cached API key or session lookup is served, milliseconds (0 = no cache).
   * Changes drop entries at once by notice; this bounds an entry whose notice never came.
   */
  readonly authCacheTtlMs: number;
  /** Which reference systems' routes are served under `/compat/<system>` (all off by default). */
  readonly compat: CompatSwitches;
}

/** One switch per replaced system whose existing clients may call the service unchanged. */
export interface CompatSwitches {
  /** 000, usage-count key generator: COMPAT_USAGE_KEYS. */
  readonly usageKeys: boolean;
  /** 001, personal MFA manager: COMPAT_MFA_MANAGER. */
  readonly mfaManager: boolean;
  /** 002, enterprise device OTP service: COMPAT_DEVICE_OTP. */
  readonly deviceOtp: boolean;
  /** 003, TOTP registration service: COMPAT_TOTP_AUTH. */
  readonly totpAuth: boolean;
  /** 004, multi-user OTP microservice: COMPAT_OTP_MICROSERVICE. */
  readonly otpMicroservice: boolean;
}

/** One variable and what is wrong with it. */
export interface ConfigProblem {
  readonly variable: string;
  readonly message: string;
}

/** Configuration values are missing or invalid; the message names every variable. */
export class ConfigError extends Error {
  /** The variable, or the variables comma-separated when several are wrong. */
  readonly variable: string;
  readonly problems: readonly ConfigProblem[];

  constructor(variable: string, message: string, problems: readonly ConfigProblem[] = [{ variable, message }]) {
    super(problems.map((problem) => `${problem.variable}: ${problem.message}`).join('; '));
    this.name = 'ConfigError';
    this.variable = variable;
    this.problems = problems;
  }

  /** One error naming every problem found. */
  static all(problems: readonly ConfigProblem[]): ConfigError {
    if (problems.length === 1) return new ConfigError(problems[0].variable, problems[0].message);
    const variables = [...new Set(problems.map((problem) => problem.variable))].join(', ');
    return new ConfigError(variables, '', problems);
  }
}
