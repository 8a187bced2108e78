import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, login, stepUp, TestUser } from './support/identity.js';
import { problemFault } from './support/problem.js';
import { scratchDatabase, ScratchDatabase } from './support/scratch-database.js';
import { bootApp, TestApp } from './support/test-app.js';

/**
 * SECURITY.md 32, for the whole API: every operation of the service's own OpenAPI document
 * gets hostile path parameters, query parameters and bodies (NUL bytes, unpaired surrogates,
 * numbers beyond any column, fractions, deep nesting, many keys, long arrays, long strings
 * and path segments), authenticated so that each request reaches validation. No answer may
 * be a 5xx, and every 4xx must be problem details carrying the request id.
 */

type Schema = Record<string, unknown> & {
  $ref?: string;
  type?: string;
  format?: string;
  example?: unknown;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  minItems?: number;
  minLength?: number;
  minimum?: number;
};
interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  schema?: Schema;
}
interface Operation {
  security?: Array<Record<string, string[]>>;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}
interface Case {
  name: string;
  path: string;
  query?: string;
  body?: string;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** Values put in place of each field of a body. */
const HOSTILE_VALUES: Array<[string, unknown]> = [
  ['NUL', 'a\u0000b'],
  ['lone surrogate', 'a\ud800b'],
  ['1e10', 1e10],
  ['1e20', 1e20],
  ['-1e20', -1e20],
  ['1.5', 1.5],
  ['long string', 'x'.repeat(10_000)],
  ['deep nesting', JSON.parse('['.repeat(40) + ']'.repeat(40))],
  ['300 keys', Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, 1]))],
  ['2,000 items', Array(2000).fill(1)],
];
/** Values, percent-encoded, put in place of each path and query parameter. */
const HOSTILE_PARAMS: Array<[string, string]> = [
  ['NUL', 'a%00b'],
  ['lone surrogate (as UTF-8)', 'a%ED%A0%80b'],
  ['1e10', '1e10'],
  ['1e20', '1e20'],
  ['-1e20', '-1e20'],
  ['1.5', '1.5'],
  ['200 characters', 'p'.repeat(200)],
  ['300 characters', 'p'.repeat(300)],
  ['5,000 characters', 'p'.repeat(5000)],
];
/** Whole bodies sent to every operation that takes one. */
const HOSTILE_BODIES: Array<[string, string]> = [
  ['90,000 keys', `{${Array.from({ length: 90_000 }, (_, i) => `"k${i}":1`).join(',')}}`],
  ['arrays nested 10,000 deep', '['.repeat(10_000) + ']'.repeat(10_000)],
  ['arrays nested 100,000 deep', '['.repeat(100_000) + ']'.repeat(100_000)],
  ['objects nested 10,000 deep', '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)],
  ['NUL in a field name', '{"a\\u0000b":1}'],
  ['lone surrogate in a field name', '{"\\udc00":1}'],
  ['an array', '[1,2]'],
  ['a number', '1e400'],
  // Last: it is no body at all, so it may do what the operation does (log out, for one).
  ['null', 'null'],
];

describe('every operation of the OpenAPI document, fed hostile input', () => {
  let db: ScratchDatabase;
  let t: TestApp;
  let admin: TestUser;
  let apiKey: string;
  let document: { paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>> } & {
    components: { schemas: Record<string, Schema> };
  };

  beforeAll(async () => {
    // A database of its own: what the hostile requests create (a key named after the document's
    // example, say) must not meet the other suites.
    db = await scratchDatabase();
    t = await bootApp({ DATABASE_URL: db.url });
    admin = await createUser(t, { role: 'admin' });
    const issued = await t
      .http()
      .post('/api/v1/api-keys')
      .set(admin.auth)
      .send({
        name: 'fuzz',
        client_id: 'fuzz-client',
        scopes: ['devices:write', 'devices:read', 'devices:verify', 'keys:use', 'keys:admin'],
      });
    expect(issued.status).toBe(201);
    apiKey = issued.body.key;
    document = (await t.http().get('/docs/openapi.json').expect(200)).body;
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const resolve = (schema: Schema): Schema => {
    let resolved = schema;
    while (resolved.$ref) resolved = document.components.schemas[resolved.$ref.split('/').pop()!];
    if (resolved.allOf) return Object.assign({}, ...resolved.allOf.map(resolve), { ...resolved, allOf: undefined });
    return resolved;
  };

  /** A plausible value of a schema: its example, default or first choice, else one built from its type. */
  const sample = (raw: Schema, depth = 0): unknown => {
    const schema = resolve(raw);
    if (schema.example !== undefined) return structuredClone(schema.example);
    if (schema.default !== undefined) return structuredClone(schema.default);
    if (schema.enum) return schema.enum[0];
    if (schema.oneOf) return sample(schema.oneOf[0], depth);
    if (schema.type === 'object' || schema.properties) {
      if (depth > 4) return {};
      const value: Record<string, unknown> = {};
      for (const [name, property] of Object.entries(schema.properties ?? {})) value[name] = sample(property, depth + 1);
      if (typeof schema.additionalProperties === 'object') {
        value.entry = sample(schema.additionalProperties, depth + 1);
      }
      return value;
    }
    if (schema.type === 'array') {
      return Array.from({ length: Math.max(1, schema.minItems ?? 1) }, () => sample(schema.items ?? {}, depth + 1));
    }
    if (schema.type === 'string') {
      if (schema.format === 'uuid') return randomUUID();
      if (schema.format === 'date-time') return new Date(Date.now() + 86_400_000).toISOString();
      return 'sample'.padEnd(schema.minLength ?? 0, 'x');
    }
    if (schema.type === 'integer' || schema.type === 'number') return schema.minimum ?? 1;
    if (schema.type === 'boolean') return false;
    return 'sample';
  };

  /** Copies of `base` with one value (at any depth, or a field name) made hostile. */
  function* hostileBodies(base: unknown): Generator<[string, unknown]> {
    const at = (value: unknown, path: Array<string | number>, replacement: unknown): unknown => {
      if (path.length === 0) return replacement;
      const copy = structuredClone(value) as Record<string | number, unknown>;
      copy[path[0]] = at(copy[path[0]], path.slice(1), replacement);
      return copy;
    };
    const containers: Array<Array<string | number>> = [];
    const leaves: Array<Array<string | number>> = [];
    const visit = (value: unknown, path: Array<string | number>): void => {
      if (typeof value === 'object' && value !== null) {
        containers.push(path);
        for (const [key, child] of Object.entries(value)) visit(child, [...path, Array.isArray(value) ? +key : key]);
      } else {
        leaves.push(path);
      }
    };
    visit(base, []);
    for (const path of [...leaves, ...containers.filter((path) => path.length > 0)]) {
      for (const [name, value] of HOSTILE_VALUES) yield [`${path.join('.')} = ${name}`, at(base, path, value)];
    }
    for (const path of containers) {
      const container = path.reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], base);
      if (Array.isArray(container)) continue;
      yield [`NUL in a field name at ${path.join('.') || 'the top'}`, at(base, path, { ...container!, 'x\u0000': 1 })];
    }
  }

  const pathValue = (name: string): string =>
    name === 'id' ? randomUUID() : name === 'device_id' ? 'no-such-device' : 'no-such-key';

  function casesOf(template: string, method: string, operation: Operation): Case[] {
    const parameters = operation.parameters ?? [];
    const pathParams = parameters.filter((p) => p.in === 'path');
    const queryParams = parameters.filter((p) => p.in === 'query');
    const basePath = pathParams.reduce((path, p) => path.replace(`{${p.name}}`, pathValue(p.name)), template);
    const schema = operation.requestBody?.content['application/json']?.schema;
    const baseBody = schema ? JSON.stringify(sample(schema)) : undefined;
    const cases: Case[] = [];
    for (const param of pathParams) {
      for (const [name, value] of HOSTILE_PARAMS) {
        const path = pathParams.reduce(
          (p, other) => p.replace(`{${other.name}}`, other === param ? value : pathValue(other.name)),
          template,
        );
        cases.push({ name: `path ${param.name} = ${name}`, path, body: baseBody });
      }
    }
    for (const param of queryParams) {
      for (const [name, value] of HOSTILE_PARAMS.filter(([n]) => n !== '5,000 characters')) {
        cases.push({ name: `query ${param.name} = ${name}`, path: basePath, query: `${param.name}=${value}` });
      }
      cases.push({
        name: `query ${param.name} given 1,001 times`,
        path: basePath,
        query: Array(1001).fill(`${param.name}=1`).join('&'),
      });
    }
    if (!schema) {
      cases.push({ name: 'query of an unknown parameter with NUL', path: basePath, query: 'fuzz=%00' });
      cases.push({
        name: 'query of 300 parameters',
        path: basePath,
        query: Array.from({ length: 300 }, (_, i) => `q${i}=1`).join('&'),
      });
    }
    if (method !== 'get') {
      if (schema) {
        for (const [name, body] of hostileBodies(JSON.parse(baseBody!))) {
          cases.push({ name: `body ${name}`, path: basePath, body: JSON.stringify(body) });
        }
      }
      for (const [name, body] of HOSTILE_BODIES) cases.push({ name: `body: ${name}`, path: basePath, body });
    }
    return cases;
  }

  it('never answers a 5xx, and answers every 4xx with problem details and the request id', async () => {
    const findings: string[] = [];
    const statuses: Record<number, number> = {};
    let requests = 0;
    let operations = 0;
    for (const [template, item] of Object.entries(document.paths)) {
      for (const method of METHODS) {
        const operation = item[method];
        if (!operation) continue;
        operations++;
        const schemes = (operation.security ?? []).flatMap((requirement) => Object.keys(requirement));
        // A session of its own per operation, so a logout or password change cannot end the others',
        // stepped up, so routes that reveal secrets reach validation too.
        let auth: Record<string, string> = {};
        if (schemes.includes('jwt')) {
          auth = (await login(t, admin.username, admin.password)).auth;
          await stepUp(t, { auth, password: admin.password });
        } else if (schemes.includes('api-key')) {
          auth = { 'x-api-key': apiKey };
        }
        for (const c of casesOf(template, method, operation)) {
          const url = c.query ? `${c.path}?${c.query}` : c.path;
          let call = t.http()[method](url).set(auth);
          if (c.body !== undefined) call = call.set('content-type', 'application/json').send(c.body);
          const res = await call;
          requests++;
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          const where = `${method.toUpperCase()} ${template} [${c.name}] → ${res.status}`;
          if (res.status >= 500) findings.push(`${where}: ${JSON.stringify(res.body).slice(0, 200)}`);
          else if (res.status >= 400) {
            const fault = problemFault(res) ?? (res.headers['x-content-type-options'] ? null : 'no security headers');
            if (fault) findings.push(`${where}: ${fault}`);
            if ((res.status === 401 || res.status === 403) && schemes.length > 0) {
              findings.push(`${where}: refused authentication, so validation was not reached`);
            }
          }
        }
      }
    }
    process.stdout.write(
      `\nOpenAPI fuzz: ${operations} operations, ${requests} requests, ${findings.length} findings; statuses ${Object.entries(
        statuses,
      )
        .map(([status, count]) => `${status}×${count}`)
        .join(', ')}\n${findings.slice(0, 50).join('\n')}\n`,
    );
    expect(operations).toBeGreaterThan(60);
    expect(findings).toEqual([]);
  }, 600_000);
});
