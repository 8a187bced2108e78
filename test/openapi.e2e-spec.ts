import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootApp, TestApp } from './support/test-app.js';

describe('OpenAPI documentation', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await bootApp();
  });
  afterAll(() => t.close());

  it('serves Swagger UI at /docs', async () => {
    const res = await t.http().get('/docs').redirects(1).expect(200);
    expect(res.text).toContain('swagger-ui');
  });

  it('serves the document with title, version, both auth schemes and the problem schema', async () => {
    const { body } = await t.http().get('/docs/openapi.json').expect(200);
    expect(body.info).toMatchObject({ title: 'OTP Service API', version: '0.0.0-test' });
    expect(body.components.securitySchemes).toEqual({
      jwt: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
      'api-key': expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-API-Key' }),
      'api-key-bearer': expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    });
    expect(body.components.schemas.ProblemDetails.required).toEqual([
      'type',
      'title',
      'status',
      'detail',
      'code',
      'requestId',
    ]);
    expect(body.paths['/health'].get.responses['4XX'].content).toHaveProperty('application/problem+json');
  });

  it('documents 503 DATABASE_UNAVAILABLE with Retry-After on database routes, and health degraded', async () => {
    const { body } = await t.http().get('/docs/openapi.json').expect(200);
    for (const operation of [body.paths['/api/v1/users/me'].get, body.paths['/api/v1/auth/login'].post]) {
      expect(operation.responses['503'].description).toMatch(/^DATABASE_UNAVAILABLE/);
      expect(operation.responses['503'].headers['Retry-After'].schema).toMatchObject({ type: 'integer' });
      expect(operation.responses['503'].content).toHaveProperty('application/problem+json');
    }
    expect(body.paths['/'].get.responses).not.toHaveProperty('503');
    expect(body.components.schemas.ProblemDetails.properties.code.description).toContain('`DATABASE_UNAVAILABLE`');
    const health = body.components.schemas.HealthResponseDto;
    expect(health.properties.status.enum).toEqual(['ok', 'degraded', 'error']);
    expect(health.properties.redis.enum).toEqual(['up', 'down']);
    expect(health.required).not.toContain('redis');
  });

  it('is not served when DOCS_ENABLED=false', async () => {
    const hidden = await bootApp({ DOCS_ENABLED: 'false' });
    try {
      expect((await hidden.http().get('/docs/openapi.json')).status).toBe(404);
    } finally {
      await hidden.close();
    }
  });
});
