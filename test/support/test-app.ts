import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { getDataSourceToken } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { inject } from 'vitest';
import type { AppOptions } from '../../src/app.module.js';
import type { AppConfig } from '../../src/config/config.types.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createApp } from '../../src/http-app.js';

export const testSecret = (): string => randomBytes(32).toString('base64url');

/**
 * The environment a test app starts from: the run's database, its key ring (the data every
 * suite leaves must stay readable to the next one's start-up check) and fresh other secrets.
 */
export function testEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: inject('databaseUrl'),
    DATA_DIR: mkdtempSync(join(tmpdir(), 'otp-test-')),
    JWT_SECRET: testSecret(),
    ENCRYPTION_KEYS: inject('encryptionKeys'),
    MASTER_SECRETS: `1:${testSecret()}`,
    LOG_LEVEL: 'silent',
    AUDIT_SEAL_INTERVAL_MS: '3600000',
    RATE_LIMIT_DEFAULT_PER_MINUTE: '100000',
    // Named limits (login 5/5 min…) would trip the functional tests; rate-limit specs set 1.
    RATE_LIMIT_MULTIPLIER: '1000',
    // A known first-admin password, so boots never print a generated one.
    ADMIN_PASSWORD: 'Admin-Password-1!',
    ...overrides,
  };
}

export function testConfig(
  overrides: Record<string, string | undefined> = {},
): AppConfig & { database: { url: string } } {
  const { config } = loadConfig(testEnv(overrides), '0.0.0-test');
  return config as AppConfig & { database: { url: string } };
}

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  dataSource: DataSource;
  http: () => ReturnType<typeof request>;
  close: () => Promise<void>;
}

/** Boots the real application (real migrations, real database) and talks to it over real HTTP. */
export async function bootApp(
  env: Record<string, string | undefined> = {},
  options: AppOptions = {},
): Promise<TestApp> {
  const config = testConfig(env);
  const app = await createApp(config, options);
  return {
    app,
    config,
    dataSource: app.get<DataSource>(getDataSourceToken()),
    http: () => request(app.getHttpServer()),
    close: () => app.close(),
  };
}
