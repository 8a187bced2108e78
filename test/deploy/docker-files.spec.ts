import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (rel: string): string => readFileSync(resolve(root, rel), 'utf8');

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Minimal Dockerfile reader: joins `\` continuations, drops comments, splits into stages. */
function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!current && (line === '' || line.startsWith('#'))) continue;
    if (current && line.startsWith('#')) continue; // comment inside a continuation
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    logical.push((current + line).trim());
    current = '';
  }
  if (current) logical.push(current.trim());

  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logical) {
    const m = /^(\S+)\s*(.*)$/s.exec(line)!;
    const op = m[1].toUpperCase();
    const rest = m[2];
    if (op === 'FROM') {
      const [image, as, name] = rest.split(/\s+/);
      const resolved = image.replace(/^\$\{?(\w+)\}?$/, (_, v: string) => args[v] ?? image);
      stages.push({ from: resolved, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0) {
      if (op === 'ARG') {
        const [k, v] = rest.split('=');
        if (v !== undefined) args[k.trim()] = v.trim();
      }
    } else {
      stages.at(-1)!.instructions.push({ op, args: rest });
    }
  }
  return { args, stages };
}

const dockerfile = parseDockerfile(read('docker/Dockerfile'));
const finalStage = dockerfile.stages.at(-1)!;
const ops = (stage: Stage, op: string): string[] => stage.instructions.filter((i) => i.op === op).map((i) => i.args);

describe('docker/Dockerfile', () => {
  it('is a multi-stage build on a Node LTS bookworm-slim image', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of dockerfile.stages) {
      if (dockerfile.stages.some((s) => s.name === stage.from)) continue; // FROM <earlier stage>
      expect(stage.from).toMatch(/^node:(22|24)-bookworm-slim$/);
    }
  });

  it('runs a Node line that package.json "engines" admits', () => {
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    const major = /^node:(\d+)-/.exec(dockerfile.stages[0].from)?.[1];
    expect(engines.split('||').map((range) => range.trim())).toContainEqual(expect.stringMatching(`^\\^${major}\\.`));
  });

  it('builds with all dependencies in the first stage', () => {
    const runs = ops(dockerfile.stages[0], 'RUN').join('\n');
    expect(runs).toMatch(/\bnpm ci\b/);
    expect(runs).not.toMatch(/--omit=dev/);
    expect(runs).toMatch(/\bnpm run build\b/);
  });

  it('ships production dependencies only plus dist/ from the build stage', () => {
    const runs = ops(finalStage, 'RUN').join('\n');
    expect(runs).toMatch(/\bnpm ci\b[^\n]*--omit=dev/);
    expect(runs).not.toMatch(/\bnpm run build\b/);
    const buildStage = dockerfile.stages[0].name;
    expect(buildStage).toBeTruthy();
    expect(ops(finalStage, 'COPY')).toContainEqual(
      expect.stringMatching(new RegExp(`--from=${buildStage}\\s+\\S*/dist\\s`)),
    );
    expect(ops(finalStage, 'ENV').join('\n')).toMatch(/\bNODE_ENV=production\b/);
  });

  it('listens on every interface inside the container (HOST=0.0.0.0; the default elsewhere is loopback)', () => {
    const env = ops(finalStage, 'ENV').join(' ');
    expect(env).toMatch(/(^|\s)HOST=0\.0\.0\.0(\s|$)/);
  });

  it('runs as the non-root node user, exposes 3000 and has a /health HEALTHCHECK', () => {
    const users = ops(finalStage, 'USER');
    expect(users.at(-1)).toBe('node');
    expect(ops(finalStage, 'EXPOSE')).toContain('3000');
    const healthchecks = ops(finalStage, 'HEALTHCHECK');
    expect(healthchecks).toHaveLength(1);
    expect(healthchecks[0]).toMatch(/\bCMD\b/);
    expect(healthchecks[0]).toContain('/health');
    expect(healthchecks[0]).toContain('process.env.PORT||3000');
  });

  it('starts the compiled nest-cli entryFile', () => {
    const nestCli = JSON.parse(read('nest-cli.json')) as { entryFile?: string };
    const entry = `dist/${nestCli.entryFile ?? 'main'}.js`;
    expect(entry).toBe('dist/src/main.js');
    const cmds = ops(finalStage, 'CMD');
    expect(cmds).toHaveLength(1);
    expect(JSON.parse(cmds[0])).toEqual(['node', entry]);
  });
});

describe('.dockerignore', () => {
  const entries = read('.dockerignore')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('keeps local state, build output and secrets out of the build context', () => {
    for (const entry of ['node_modules', 'dist', 'data', '.git', 'bench/results', 'coverage', '*.log', '.env']) {
      expect(entries).toContain(entry);
    }
  });

  it('does not exclude what the build needs', () => {
    for (const needed of [
      'package.json',
      'package-lock.json',
      'src',
      'migrations',
      'nest-cli.json',
      'tsconfig.json',
      'tsconfig.build.json',
    ]) {
      expect(entries).not.toContain(needed);
    }
  });
});

describe('docker/docker-compose.yml', () => {
  interface ComposeService {
    image?: string;
    build?: { context: string; dockerfile: string };
    environment?: Record<string, string | null>;
    healthcheck?: { test: string[] | string };
    depends_on?: Record<string, { condition: string }>;
    ports?: string[];
    volumes?: string[];
  }
  const compose = parse(read('docker/docker-compose.yml')) as {
    services: Record<string, ComposeService>;
    volumes?: Record<string, unknown>;
  };
  const { app, postgres, redis } = compose.services;

  it('defines app, postgres 16 and redis 7, each with a healthcheck', () => {
    expect(app).toBeDefined();
    expect(postgres?.image).toBe('postgres:16-alpine');
    expect(redis?.image).toBe('redis:7-alpine');
    for (const [name, service] of Object.entries({ app, postgres, redis })) {
      expect(service.healthcheck?.test, `${name} has no healthcheck`).toBeTruthy();
    }
  });

  it('builds the app from the repo root with docker/Dockerfile', () => {
    expect(app.build?.context).toBe('..');
    const context = resolve(dirname(resolve(root, 'docker/docker-compose.yml')), app.build!.context);
    expect(context).toBe(resolve(root));
    expect(existsSync(resolve(context, app.build!.dockerfile))).toBe(true);
    expect(app.ports).toContainEqual(expect.stringMatching(/:3000$/));
  });

  it('starts the app only after healthy postgres and redis', () => {
    expect(app.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(app.depends_on?.redis?.condition).toBe('service_healthy');
  });

  it('wires the app to postgres/redis and requires the secrets from the shell', () => {
    const env = app.environment ?? {};
    expect(env.NODE_ENV).toBe('production');
    expect(env.DATABASE_URL).toMatch(/^postgres(ql)?:\/\/.*@postgres:5432\//);
    expect(env.REDIS_URL).toMatch(/^redis:\/\/redis:6379/);
    for (const key of ['JWT_SECRET', 'ENCRYPTION_KEYS', 'MASTER_SECRETS']) {
      expect(env[key], `${key} must be \${${key}:?...}`).toMatch(new RegExp(`^\\$\\{${key}:\\?.+\\}$`));
    }
  });

  it('keeps postgres data in a named volume', () => {
    const mount = postgres.volumes?.find((v) => v.endsWith(':/var/lib/postgresql/data'));
    expect(mount).toBeDefined();
    const volume = mount!.split(':')[0];
    expect(Object.keys(compose.volumes ?? {})).toContain(volume);
  });
});
