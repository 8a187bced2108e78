import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Modules own their tables: SQL and TypeORM calls that read or write a table live in the
 * module that owns it; another module asks through that module's exported service. Checked
 * over every file under src/ (a file's module is its first folder under src/).
 */
const OWNERS: Record<string, string> = {
  users: 'users',
  login_failures: 'users',
  sessions: 'auth',
  mfa_recovery_codes: 'auth',
  api_keys: 'api-keys',
  otp_configs: 'otp-configs',
  otp_events: 'otp-configs',
  devices: 'devices',
  usage_keys: 'keys',
  usage_key_events: 'keys',
  usage_key_assignments: 'keys',
  audit_logs: 'audit',
  audit_anchors: 'audit',
  compat_user_numbers: 'compat',
  compat_config_counters: 'compat',
  compat_config_numbers: 'compat',
};

/** Files that may name any table, and why. */
const ALLOWED: Record<string, string> = {
  'database/migrations.ts': 'the migrations create every table',
  'database/database-unavailable.spec.ts': 'an example statement in an error, not a query',
  'common/loggable-error.spec.ts': 'an example statement in an error, not a query',
  'crypto/key-ring-check.spec.ts': 'column names in sample data, not a query',
  'module-boundaries.spec.ts': 'this rule',
};

const SRC = fileURLToPath(new URL('.', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const moduleOf = (file: string): string => file.split('/')[0];

/**
 * Tables a text names in SQL (FROM, JOIN, UPDATE, INTO, TABLE, EXISTS, to_regclass) or hands
 * to a helper that writes the SQL (`table: 'name'`), with their lines.
 */
export function tablesNamed(text: string): Array<{ table: string; line: number }> {
  const found: Array<{ table: string; line: number }> = [];
  const sql =
    /\b(?:FROM|JOIN|UPDATE|INTO|TABLE|EXISTS)\s+"?([a-z_]+)"?|to_regclass\(\s*'"?([a-z_]+)|\btable:\s*'([a-z_]+)'/gi;
  for (const match of text.matchAll(sql)) {
    const table = (match[1] ?? match[2] ?? match[3]).toLowerCase();
    if (table in OWNERS) found.push({ table, line: text.slice(0, match.index).split('\n').length });
  }
  return found;
}

/** Entity classes by the module that declares them (`@Entity` in src/<module>/…). */
function entityOwners(files: Array<{ file: string; text: string }>): Map<string, string> {
  const owners = new Map<string, string>();
  for (const { file, text } of files) {
    if (!text.includes('@Entity(')) continue;
    for (const match of text.matchAll(/@Entity\([\s\S]*?export class (\w+)/g)) owners.set(match[1], moduleOf(file));
  }
  return owners;
}

/** TypeORM calls on an entity class: repositories, managers, query builders, feature registration. */
function entitiesUsed(text: string, entities: Iterable<string>): Array<{ entity: string; line: number }> {
  const found: Array<{ entity: string; line: number }> = [];
  for (const entity of entities) {
    const use = new RegExp(
      String.raw`(?:getRepository|InjectRepository|createQueryBuilder|manager\.\w+)\(\s*${entity}\b|forFeature\(\[[^\]]*\b${entity}\b`,
      'g',
    );
    for (const match of text.matchAll(use)) {
      found.push({ entity, line: text.slice(0, match.index).split('\n').length });
    }
  }
  return found;
}

describe('module boundaries', () => {
  const files = sourceFiles(SRC).map((path) => ({
    file: relative(SRC, path).split('\\').join('/'),
    text: readFileSync(path, 'utf8'),
  }));

  it('finds table names in SQL and entity calls the way the rule reads them', () => {
    expect(tablesNamed('SELECT 1 FROM sessions s JOIN "users" u ON u.id = s.user_id').map((t) => t.table)).toEqual([
      'sessions',
      'users',
    ]);
    expect(tablesNamed("to_regclass('usage_keys')").map((t) => t.table)).toEqual(['usage_keys']);
    expect(tablesNamed("{ table: 'otp_configs', column: 'secret' }").map((t) => t.table)).toEqual(['otp_configs']);
    expect(entitiesUsed('manager.update(Session, { id }, {})', ['Session'])).toHaveLength(1);
    expect(entityOwners(files).get('Session')).toBe('auth');
    const present = new Set(files.map(({ file }) => file));
    expect(Object.keys(ALLOWED).filter((file) => !present.has(file))).toEqual([]);
  });

  it("no module's SQL names another module's table", () => {
    const crossings = files
      .filter(({ file }) => !(file in ALLOWED))
      .flatMap(({ file, text }) =>
        tablesNamed(text)
          .filter(({ table }) => OWNERS[table] !== moduleOf(file))
          .map(({ table, line }) => `${file}:${line} names ${table} (owned by ${OWNERS[table]})`),
      );
    expect(crossings).toEqual([]);
  });

  it("no module calls TypeORM on another module's entity", () => {
    const owners = entityOwners(files);
    const crossings = files
      .filter(({ file }) => !(file in ALLOWED))
      .flatMap(({ file, text }) =>
        entitiesUsed(text, owners.keys())
          .filter(({ entity }) => owners.get(entity) !== moduleOf(file))
          .map(({ entity, line }) => `${file}:${line} uses ${entity} (owned by ${owners.get(entity)})`),
      );
    expect(crossings).toEqual([]);
  });
});
