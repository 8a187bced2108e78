/**
 * Writes the OpenAPI document without a database: `node dist/src/openapi/export.js [FILE]`.
 * Preview mode builds the module graph from metadata only, so no provider connects anywhere.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AppModule } from '#src/app.module.js';
import { createRootLogger } from '#src/common/logging.js';
import { loadConfig } from '#src/config/load-config.js';
import { useApiPrefix } from '#src/http-app.js';
import { SERVICE_VERSION } from '#src/version.js';
import { buildOpenApiDocument } from './openapi.js';

const placeholder = 'x'.repeat(32);
const { config } = loadConfig(
  { NODE_ENV: 'test', JWT_SECRET: placeholder, ENCRYPTION_KEYS: placeholder, MASTER_SECRETS: placeholder },
  SERVICE_VERSION,
);
const app = await NestFactory.create(
  AppModule.forRoot(
    { ...config, database: { ...config.database, url: 'postgres://unused' } },
    createRootLogger('silent'),
  ),
  new FastifyAdapter(),
  { preview: true, logger: false, abortOnError: false },
);
useApiPrefix(app);
const document = buildOpenApiDocument(app, SERVICE_VERSION);
writeFileSync(process.argv[2] ?? 'openapi.json', JSON.stringify(document, null, 2) + '\n');
await app.close();
