import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '#src/common/problem.js';
import { bootApp, TestApp } from './support/test-app.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CODE = /^[A-Z][A-Z0-9_]{2,}$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

const calleeName = (node: ts.CallExpression | ts.NewExpression): string | undefined => {
  const callee = node.expression;
  if (ts.isIdentifier(callee)) return callee.text;
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text;
  return undefined;
};

/** String literals an expression can evaluate to (a literal, either arm of a conditional). */
function literals(node: ts.Expression): string[] {
  if (ts.isStringLiteralLike(node)) return [node.text];
  if (ts.isConditionalExpression(node)) return [...literals(node.whenTrue), ...literals(node.whenFalse)];
  if (ts.isParenthesizedExpression(node)) return literals(node.expression);
  return [];
}

/**
 * Every problem `code` the source can answer with. Problem builders are ProblemException,
 * its subclasses (their `super(...)`), and every function with a `code` parameter that
 * returns a problem or passes `code` on to a builder (unauthenticated, forbidden,
 * lockedProblem, problemDetails…), found to a fixpoint. A code is any upper-case
 * literal passed to a builder; besides, `code: '…'` in an object handed to an exception
 * (the validation pipe), and the filter's fallback tables (`*_CODES`, not the registry).
 */
function codesThrownBySource(): { codes: Map<string, string[]>; builders: string[] } {
  const files = sourceFiles(join(ROOT, 'src')).map((path) => {
    const text = readFileSync(path, 'utf8');
    return { path: relative(ROOT, path), file: ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true) };
  });
  const builders = new Set(['ProblemException']);
  const subclasses = new Set<ts.ClassDeclaration>();
  const visitAll = (visit: (node: ts.Node) => void): void => {
    const walk = (node: ts.Node): void => {
      visit(node);
      ts.forEachChild(node, walk);
    };
    for (const { file } of files) walk(file);
  };
  const passesCodeToBuilder = (body: ts.Node): boolean => {
    let found = false;
    const walk = (node: ts.Node): void => {
      if ((ts.isCallExpression(node) || ts.isNewExpression(node)) && builders.has(calleeName(node) ?? '')) {
        if (node.arguments?.some((arg) => ts.isIdentifier(arg) && arg.text === 'code')) found = true;
      }
      if (!found) ts.forEachChild(node, walk);
    };
    walk(body);
    return found;
  };
  for (let grew = true; grew;) {
    grew = false;
    visitAll((node) => {
      if (ts.isClassDeclaration(node) && node.name && !builders.has(node.name.text)) {
        const parent = node.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0];
        if (parent && builders.has(parent.expression.getText())) subclasses.add(node);
        return;
      }
      let name: string | undefined;
      let fn: ts.SignatureDeclaration | undefined;
      if (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) [name, fn] = [node.name?.getText(), node];
      if (
        ts.isVariableDeclaration(node) &&
        node.initializer &&
        (ts.isArrowFunction(node.initializer) || ts.isFunctionExpression(node.initializer))
      ) {
        [name, fn] = [node.name.getText(), node.initializer];
      }
      if (!name || !fn || builders.has(name)) return;
      if (!fn.parameters.some((p) => p.name.getText() === 'code')) return;
      const returnsProblem = /Problem(Exception|Details)\b/.test(fn.type?.getText() ?? '');
      const body = (fn as ts.FunctionLikeDeclaration).body;
      if (returnsProblem || (body && passesCodeToBuilder(body))) {
        builders.add(name);
        grew = true;
      }
    });
  }
  const codes = new Map<string, string[]>();
  const add = (code: string, where: string): void => {
    expect(code, `a problem code in ${where}`).toMatch(CODE);
    codes.set(code, [...(codes.get(code) ?? []), where]);
  };
  for (const { path, file } of files) {
    const where = (node: ts.Node): string => `${path}:${file.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
    const walk = (node: ts.Node, inSubclass: boolean): void => {
      if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
        const name = calleeName(node);
        const isSuper = ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.SuperKeyword;
        if (builders.has(name ?? '') || (isSuper && inSubclass)) {
          for (const arg of node.arguments ?? []) {
            for (const text of literals(arg)) if (CODE.test(text)) add(text, where(arg));
          }
        }
        if (ts.isNewExpression(node) && /Exception$/.test(name ?? '')) {
          for (const arg of node.arguments ?? []) {
            if (!ts.isObjectLiteralExpression(arg)) continue;
            for (const property of arg.properties) {
              if (ts.isPropertyAssignment(property) && property.name.getText() === 'code') {
                for (const text of literals(property.initializer)) add(text, where(property));
              }
            }
          }
        }
      }
      if (
        ts.isVariableDeclaration(node) &&
        /_CODES$/.test(node.name.getText()) &&
        node.name.getText() !== 'ERROR_CODES' &&
        node.initializer &&
        ts.isObjectLiteralExpression(node.initializer)
      ) {
        for (const property of node.initializer.properties) {
          if (ts.isPropertyAssignment(property)) {
            for (const text of literals(property.initializer)) add(text, where(property));
          }
        }
      }
      ts.forEachChild(node, (child) =>
        walk(child, inSubclass || (ts.isClassDeclaration(node) && subclasses.has(node))),
      );
    };
    walk(file, false);
  }
  return { codes, builders: [...builders] };
}

/** A few lines a client writes against the generated types; it compiles only if the document is right. */
const USAGE = `import createClient from 'openapi-fetch';
import type { components, paths } from './api.js';

type Problem = components['schemas']['ProblemDetails'];
const client = createClient<paths>({ baseUrl: 'https://otp.example.com' });

/** Answers the access token, or null when MFA is needed or the sign-in is refused. */
export async function signIn(username: string, password: string): Promise<string | null> {
  const { data, error } = await client.POST('/api/v1/auth/login', { body: { username, password } });
  if (error) {
    const code: string = error.code;
    const lockedUntil: string | undefined = error.locked_until;
    const retryAfter: number | undefined = error.retry_after;
    console.log(code, lockedUntil, retryAfter);
    return null;
  }
  if (data.mfa_required) {
    const flag: true = data.mfa_required;
    // @ts-expect-error the MFA answer carries no tokens
    console.log(flag, data.access_token);
    return null;
  }
  const user: { id: string; username: string; must_change_password: boolean } = data.user;
  const lifetime: number = data.expires_in;
  console.log(user, lifetime);
  return data.access_token;
}

export async function importKeys(apiKey: string): Promise<string[]> {
  const { data, error } = await client.POST('/api/v1/keys/import', {
    headers: { 'X-API-Key': apiKey },
    body: {
      keys: {
        'deploy-approval': { secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', max_uses: 5, usage_count: 2, last_used: null },
        'release': { secret: 'JBSWY3DPEHPK3PXP', algorithm: 'sha256', digits: 8 },
      },
      dry_run: true,
    },
  });
  if (error) return (error.errors ?? []).map((e: { field: string; messages: string[] }) => e.field);
  const counts: number = data.created + data.replaced + data.skipped + data.invalid;
  console.log(counts);
  return data.results.map((item) => {
    const status: 'created' | 'replaced' | 'skipped' | 'invalid' = item.status;
    const why: string[] = item.errors ?? [];
    return \`\${item.name}: \${status} \${why.join('; ')}\`;
  });
}

export async function codeOf(apiKey: string, key: string): Promise<string> {
  const { data, error } = await client.POST('/api/v1/keys/code', { headers: { 'X-API-Key': apiKey }, body: { key } });
  if (error) return describeProblem(error);
  return data.code;
}

export function describeProblem(problem: Problem): string {
  const uses = problem.usage_info;
  const remaining: number | 'unlimited' | undefined = uses?.remaining_uses;
  const key: string | undefined = problem.key;
  const expiresAt: string | null | undefined = problem.expires_at;
  return \`\${problem.status} \${problem.code} \${problem.requestId} \${key} \${expiresAt} \${remaining}\`;
}
`;

describe('OpenAPI document as the contract', () => {
  let t: TestApp;
  let document: {
    paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
    components: { schemas: Record<string, { properties?: Record<string, { description?: string }> }> };
  };

  beforeAll(async () => {
    t = await bootApp();
    document = (await t.http().get('/docs/openapi.json').expect(200)).body;
  });
  afterAll(() => t?.close());

  it('registers exactly the problem codes the source throws, and the document names each', () => {
    const { codes, builders } = codesThrownBySource();
    // The scan sees every kind of builder: helpers, a subclass's super(), the pipe, the filter.
    expect(builders).toEqual(
      expect.arrayContaining(['ProblemException', 'unauthenticated', 'forbidden', 'lockedProblem', 'problemDetails']),
    );
    for (const code of ['INVALID_CREDENTIALS', 'RATE_LIMITED', 'VALIDATION_FAILED', 'MALFORMED_JSON', 'NOT_FOUND']) {
      expect(codes.has(code), code).toBe(true);
    }
    const registered = Object.keys(ERROR_CODES);
    const thrown = [...codes.keys()];
    expect(thrown.filter((code) => !registered.includes(code)).sort(), 'thrown but not registered').toEqual([]);
    expect(registered.filter((code) => !codes.has(code)).sort(), 'registered but never thrown').toEqual([]);
    const described = document.components.schemas.ProblemDetails.properties?.code.description ?? '';
    expect(
      registered.filter((code) => !described.includes(`\`${code}\``)),
      'not in the document',
    ).toEqual([]);
  });

  it('answers problem details with their extensions on every error response', () => {
    const schema = document.components.schemas.ProblemDetails.properties ?? {};
    expect(Object.keys(schema)).toEqual(
      expect.arrayContaining(['errors', 'locked_until', 'retry_after', 'key', 'expires_at', 'usage_info']),
    );
    const wrong: string[] = [];
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (!/^[45]/.test(status)) continue;
          const content = response.content ?? {};
          const ref = (content['application/problem+json'] as { schema?: { $ref?: string } } | undefined)?.schema?.$ref;
          if (Object.keys(content).length !== 1 || ref !== '#/components/schemas/ProblemDetails') {
            wrong.push(`${method} ${path} ${status}`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
    for (const path of [
      '/api/v1/otp/validate',
      '/api/v1/auth/login',
      '/api/v1/auth/step-up',
      '/api/v1/devices/verify',
    ]) {
      expect(document.paths[path].post.responses, path).toHaveProperty('423');
    }
  });

  it('gives every schema its own name: no two DTO classes share one', () => {
    const names = new Map<string, string[]>();
    for (const path of sourceFiles(join(ROOT, 'src'))) {
      const text = readFileSync(path, 'utf8');
      for (const match of text.matchAll(/(?:@ApiSchema\(\{\s*name:\s*'(\w+)'[^)]*\)\s*)?export class (\w+Dto)\b/g)) {
        const name = match[1] ?? match[2];
        names.set(name, [...(names.get(name) ?? []), relative(ROOT, path)]);
      }
    }
    expect([...names].filter(([, where]) => where.length > 1)).toEqual([]);
    expect(document.components.schemas).toHaveProperty('UsageKeyImportItemResultDto');
    expect(document.components.schemas).toHaveProperty('UsageKeyImportEntryDto');
  });

  it('generates a client (openapi-typescript + openapi-fetch) that a typed caller compiles against', async () => {
    const cache = join(ROOT, 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    const dir = mkdtempSync(join(cache, 'openapi-client-'));
    try {
      // A `default` in a request body is what the server assumes when the field is left out; by
      // default openapi-typescript would make such fields required, so it is told they may be absent.
      const schema = document as unknown as Parameters<typeof openapiTS>[0];
      const api = astToString(await openapiTS(schema, { defaultNonNullable: false }));
      writeFileSync(join(dir, 'api.ts'), api);
      writeFileSync(join(dir, 'usage.ts'), USAGE);
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'nodenext',
            moduleResolution: 'nodenext',
            target: 'ES2023',
            lib: ['ES2023', 'DOM'],
            types: [],
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            exactOptionalPropertyTypes: false,
          },
          files: ['api.ts', 'usage.ts'],
        }),
      );
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      const result = await promisify(execFile)(process.execPath, [tsc, '--noEmit', '-p', dir]).then(
        ({ stdout }) => ({ ok: true, output: stdout }),
        (error: { stdout?: string; stderr?: string }) => ({ ok: false, output: `${error.stdout}${error.stderr}` }),
      );
      expect(result.output.trim()).toBe('');
      expect(result.ok).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
