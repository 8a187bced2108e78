import type { INestApplication } from '@nestjs/common';
import { type ContentObject, DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ERROR_CODES } from '#src/common/problem.js';
import { PUBLIC_EXTENSION } from '#src/common/public.decorator.js';
import type { AppConfig } from '#src/config/config.types.js';

type OperationObject = NonNullable<OpenAPIObject['paths'][string]['get']>;

export const SECURITY = { jwt: 'jwt', apiKeyHeader: 'api-key', apiKeyBearer: 'api-key-bearer' } as const;

const DESCRIPTION = `Issues, stores and checks one-time passwords (TOTP, RFC 6238; HOTP, RFC 4226).

* **People** sign in with \`POST /api/v1/auth/login\` and send \`Authorization: Bearer <access token>\`.
* **Enterprise clients** send their API key as \`X-API-Key: <key>\` or \`Authorization: Bearer <key>\`.

Every error is an RFC 9457 problem (\`application/problem+json\`) with a stable \`code\` and the \`requestId\`
(also in the \`X-Request-Id\` header). JSON fields are snake_case; an OTP code is always a string.`;

export function buildOpenApiDocument(app: INestApplication, version: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('OTP Service API')
    .setVersion(version)
    .setDescription(DESCRIPTION)
    .setLicense('Proprietary', 'https://example.com/license')
    .addServer('/')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access token' }, SECURITY.jwt)
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'Enterprise API key' },
      SECURITY.apiKeyHeader,
    )
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'API key', description: 'Enterprise API key as a bearer token' },
      SECURITY.apiKeyBearer,
    )
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controllerKey, methodKey) => `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
  return withProblemDetails(document);
}

export function setupOpenApi(app: INestApplication, appConfig: AppConfig): void {
  const document = buildOpenApiDocument(app, appConfig.version);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs/openapi.json',
    yamlDocumentUrl: 'docs/openapi.yaml',
    customSiteTitle: 'OTP Service API',
  });
}

/** Adds the problem-details schema and documents it as the answer of every error. */
function withProblemDetails(document: OpenAPIObject): OpenAPIObject {
  document.components ??= {};
  document.components.schemas ??= {};
  document.components.schemas.ProblemDetails = {
    type: 'object',
    description: 'RFC 9457 problem details.',
    required: ['type', 'title', 'status', 'detail', 'code', 'requestId'],
    properties: {
      type: { type: 'string', example: 'urn:problem-type:otp-service:validation-failed' },
      title: { type: 'string', example: 'Bad Request' },
      status: { type: 'integer', example: 400 },
      detail: { type: 'string', example: 'Validation failed: digits' },
      code: {
        type: 'string',
        description: `Stable machine-readable code:\n${Object.entries(ERROR_CODES)
          .map(([code, meaning]) => `* \`${code}\`: ${meaning}`)
          .join('\n')}\n\nAny other error the framework raises answers \`HTTP_<status>\`.`,
        example: 'VALIDATION_FAILED',
      },
      requestId: { type: 'string', example: '3f1c2a7e-4b7d-4a61-9d8e-0c6a1f2b9e11' },
      limit: {
        type: 'object',
        description: '400 BODY_TOO_COMPLEX: the limit the input went past',
        required: ['name', 'max'],
        properties: {
          name: { type: 'string', enum: ['depth', 'object_keys', 'array_items', 'total_entries'] },
          max: { type: 'integer', example: 256 },
        },
      },
      errors: {
        type: 'array',
        description: '400 VALIDATION_FAILED, BODY_TOO_COMPLEX and INVALID_CHARACTERS: the fields that failed, with why',
        items: {
          type: 'object',
          required: ['field', 'messages'],
          properties: { field: { type: 'string' }, messages: { type: 'array', items: { type: 'string' } } },
        },
      },
      locked_until: {
        type: 'string',
        format: 'date-time',
        description: '423 (ACCOUNT_LOCKED, VALIDATION_LOCKED, DEVICE_LOCKED): when the lock ends',
      },
      retry_after: {
        type: 'integer',
        minimum: 1,
        description: '423, 429 and 503: seconds to wait, as in the `Retry-After` header',
      },
      key: { type: 'string', description: '409 KEY_EXPIRED and KEY_DEPLETED: the name of the key' },
      expires_at: {
        type: 'string',
        format: 'date-time',
        nullable: true,
        description: '409 KEY_EXPIRED: when the key expired',
      },
      usage_info: {
        description: "409 KEY_EXPIRED and KEY_DEPLETED: the key's uses at the refusal",
        allOf: [{ $ref: '#/components/schemas/UsageInfoDto' }],
      },
    },
  };
  const problem = {
    description: 'Problem details',
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDetails' } } },
  };
  const databaseUnavailable = {
    description: 'DATABASE_UNAVAILABLE: the database cannot be reached right now',
    headers: {
      'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer', example: 5 } },
    },
    content: problem.content,
  };
  for (const [path, pathItem] of Object.entries(document.paths)) {
    for (const method of ['get', 'put', 'post', 'patch', 'delete'] as const) {
      const operation = pathItem[method];
      if (!operation) continue;
      // A replaced system's route answers errors in that system's body (CompatErrorShapes). When its
      // controller declares that body as the 5XX content, every error status gets it; otherwise
      // its errors stay as its decorators declare them. Every other route answers problem details.
      const compat = path.startsWith('/compat/');
      const declared = (operation.responses['5XX'] as { content?: ContentObject } | undefined)?.content;
      if (compat && !declared) {
        markSecurity(operation);
        continue;
      }
      const errorContent = compat ? declared : problem.content;
      const errorAnswer = compat ? { description: "The replaced system's error body", content: errorContent } : problem;
      // Every route reads the database (authentication does) except the service info.
      if (operation.operationId !== 'getServiceInfo') {
        operation.responses['503'] ??= { ...databaseUnavailable, content: errorContent };
      }
      for (const status of Object.keys(operation.responses)) {
        const response = operation.responses[status] as { description?: string; content?: unknown } | undefined;
        // Every error answers the route's one error body, whatever a route's decorator declared.
        if (Number(status) >= 400 && response && !('$ref' in response)) {
          operation.responses[status] = {
            ...response,
            description: response.description ?? problem.description,
            content: errorContent,
          };
        }
      }
      // Every input is checked for its shape and characters before validation.
      if (operation.requestBody || operation.parameters?.length) {
        const refused = 'BODY_TOO_COMPLEX or INVALID_CHARACTERS (input refused before validation)';
        const badRequest = operation.responses['400'] as { description?: string } | undefined;
        if (!badRequest) {
          operation.responses['400'] = { description: `VALIDATION_FAILED, ${refused}`, content: errorContent };
        } else if (!('$ref' in badRequest)) {
          badRequest.description = `${badRequest.description ?? 'VALIDATION_FAILED'}; ${refused}`;
        }
      }
      markSecurity(operation);
      operation.responses['4XX'] ??= errorAnswer;
      operation.responses['5XX'] ??= errorAnswer;
    }
  }
  return document;
}

/** Authentication is the default: public routes say so explicitly, the rest need a token. */
function markSecurity(operation: OperationObject): void {
  const extensible = operation as OperationObject & { [PUBLIC_EXTENSION]?: boolean };
  if (extensible[PUBLIC_EXTENSION]) {
    operation.security = [];
    delete extensible[PUBLIC_EXTENSION];
  } else {
    operation.security ??= [{ [SECURITY.jwt]: [] }];
  }
}
