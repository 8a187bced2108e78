import { HttpException } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate, ValidationError } from 'class-validator';
import { ProblemException } from '#src/common/problem.js';

/** A failure to show the operator as is (no stack), with a non-zero exit. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** What went wrong, in one or a few lines: a service problem shows its message and stable code. */
export function describeError(error: unknown): string {
  if (error instanceof ProblemException) {
    const fields = (error.extensions.errors as Array<{ field: string; messages: string[] }> | undefined) ?? [];
    return [`${error.message} (${error.code})`, ...fields.map((f) => `  ${f.field}: ${f.messages.join('; ')}`)].join(
      '\n',
    );
  }
  if (error instanceof HttpException) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Checks command input with the same DTO rules as the API (unknown fields refused). */
export async function validated<T extends object>(type: new () => T, plain: Record<string, unknown>): Promise<T> {
  const instance = plainToInstance(type, plain);
  const errors = await validate(instance, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) {
    const lines = flatten(errors).map((e) => `  ${e.field}: ${e.messages.join('; ')}`);
    throw new CliError(`invalid input:\n${lines.join('\n')}`);
  }
  return instance;
}

function flatten(errors: ValidationError[], prefix = ''): Array<{ field: string; messages: string[] }> {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, messages: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** A whole number as typed on the command line ("unlimited" = -1 where allowed). */
export function parseInteger(name: string, value: string, options: { unlimited?: boolean } = {}): number {
  if (options.unlimited && value === 'unlimited') return -1;
  if (!/^-?\d+$/.test(value)) throw new CliError(`${name} must be a whole number, got "${value}"`);
  return Number(value);
}

export type Row = object;

function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A plain text table with a header row. */
export function renderTable(rows: Row[], columns: string[]): string {
  if (rows.length === 0) return '(none)\n';
  const cells = rows.map((row) => columns.map((c) => cell((row as Record<string, unknown>)[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (values: string[]): string =>
    values
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n') + '\n';
}

/** `field  value` lines for one object. */
export function renderRecord(record: Row): string {
  const width = Math.max(...Object.keys(record).map((k) => k.length));
  return (
    Object.entries(record)
      .map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`)
      .join('\n') + '\n'
  );
}

/** Writes JSON when asked, else the human rendering. */
export function output(json: boolean | undefined, data: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : human());
}
