import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (rel: string): string => readFileSync(root + rel, 'utf8');

interface EnvVar {
  key?: string;
  value?: string | number;
  generateValue?: boolean;
  sync?: boolean;
  fromDatabase?: { name: string; property: string };
  fromGroup?: string;
}
interface Service {
  type: string;
  name: string;
  runtime: string;
  dockerfilePath?: string;
  dockerContext?: string;
  healthCheckPath?: string;
  preDeployCommand?: string;
  envVars?: EnvVar[];
}
interface Blueprint {
  services?: Service[];
  databases?: { name: string; postgresMajorVersion?: string }[];
}

const blueprint = parse(read('render.yaml')) as Blueprint;
const schema = JSON.parse(read('test/fixtures/render.subset.schema.json')) as Record<string, unknown>;

const web = (): Service => {
  const service = blueprint.services?.find((s) => s.type === 'web');
  expect(service, 'render.yaml has no web service').toBeDefined();
  return service!;
};
const envVar = (key: string): EnvVar | undefined => web().envVars?.find((e) => e.key === key);

describe('render.yaml blueprint', () => {
  it('is valid against the Render blueprint (subset) schema', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    const valid = validate(blueprint);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('deploys the web service from the Docker image with a /health check', () => {
    const service = web();
    expect(service.runtime).toBe('docker');
    expect(service.dockerfilePath).toBe('./docker/Dockerfile');
    expect(service.dockerContext).toBe('.');
    expect(() => read('docker/Dockerfile')).not.toThrow();
    expect(service.healthCheckPath).toBe('/health');
  });

  it('runs the migrations in the pre-deploy step instead of on start', () => {
    expect(web().preDeployCommand).toMatch(/^node dist\/src\/database\/migrate\.js$/);
    expect(envVar('RUN_MIGRATIONS')?.value).toBe('false');
  });

  it('takes DATABASE_URL from the declared database connection string', () => {
    const db = envVar('DATABASE_URL')?.fromDatabase;
    expect(db?.property).toBe('connectionString');
    const database = blueprint.databases?.find((d) => d.name === db?.name);
    expect(database, `database "${db?.name}" is not declared under databases:`).toBeDefined();
    expect(database?.postgresMajorVersion).toBe('16');
  });

  it('generates the secrets instead of committing them', () => {
    for (const key of ['JWT_SECRET', 'ENCRYPTION_KEYS', 'MASTER_SECRETS', 'METRICS_TOKEN']) {
      const entry = envVar(key);
      expect(entry, `${key} missing`).toBeDefined();
      expect(entry?.generateValue, `${key} must use generateValue`).toBe(true);
      expect(entry?.value, `${key} must not have a literal value`).toBeUndefined();
    }
    expect(envVar('ADMIN_EMAIL')?.sync).toBe(false);
  });

  it('sets the production runtime environment', () => {
    expect(envVar('NODE_ENV')?.value).toBe('production');
    expect(envVar('TRUST_PROXY')?.value).toBe('true');
  });

  it('listens on every interface, which Render routes traffic to (the default is loopback)', () => {
    expect(envVar('HOST')?.value).toBe('0.0.0.0');
  });

  it('reaches the database by the internal connection string, without TLS', () => {
    // DATABASE_SSL=true would verify the server certificate, which the private network does not need.
    expect(envVar('DATABASE_SSL')?.value).toBe('false');
    expect(envVar('DATABASE_SSL_REJECT_UNAUTHORIZED')).toBeUndefined();
  });
});
