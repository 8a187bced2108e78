import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { loggableError } from './loggable-error.js';

/** What pg hands TypeORM for a unique violation: the values are in `detail`. */
function uniqueViolation(): Error {
  return Object.assign(new Error('duplicate key value violates unique constraint "UQ_users_email"'), {
    severity: 'ERROR',
    code: '23505',
    detail: 'Key (lower(email))=(ada@example.com) already exists.',
    table: 'users',
    constraint: 'UQ_users_email',
    routine: '_bt_check_unique',
  });
}

describe('loggableError', () => {
  const hash = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';
  const sql = 'INSERT INTO "users"("username", "email", "password_hash") VALUES ($1, $2, $3)';

  it('keeps the statement, SQLSTATE and constraint of a QueryFailedError, never its parameters or detail', () => {
    const error = new QueryFailedError(sql, ['ada', 'ada@example.com', hash], uniqueViolation());
    const logged = loggableError(error);
    expect(logged).toMatchObject({
      type: 'QueryFailedError',
      message: 'duplicate key value violates unique constraint "UQ_users_email"',
      code: '23505',
      constraint: 'UQ_users_email',
      table: 'users',
      sql,
    });
    const text = JSON.stringify(logged);
    for (const leaked of ['ada@example.com', hash, 'parameters', 'detail', 'driverError']) {
      expect(text).not.toContain(leaked);
    }
  });

  it('masks quoted values and parameter text in a database message and its stack', () => {
    const driver = Object.assign(new Error('invalid input syntax for type uuid: "not-a-uuid-42"'), {
      severity: 'ERROR',
      code: '22P02',
    });
    const logged = loggableError(new QueryFailedError('SELECT 1 WHERE id = $1', ['not-a-uuid-42'], driver));
    expect(logged.message).toBe('invalid input syntax for type uuid: "…"');
    expect(String(logged.stack)).not.toContain('not-a-uuid-42');
    const unquoted = Object.assign(new Error('refused "secret-value" for Top-Secret-99'), {
      severity: 'ERROR',
      code: 'P0001',
    });
    expect(loggableError(new QueryFailedError('SELECT $1', ['Top-Secret-99'], unquoted)).message).toBe(
      'refused "…" for [REDACTED]',
    );
  });

  it('cleans a pg error logged without TypeORM, and database errors inside causes', () => {
    const logged = loggableError(new Error('sealing failed', { cause: uniqueViolation() }));
    expect(logged).toMatchObject({ type: 'Error', message: 'sealing failed', cause: { code: '23505' } });
    expect(JSON.stringify(logged)).not.toContain('ada@example.com');
  });

  it('keeps system error codes of connection failures', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
      syscall: 'connect',
      port: 5432,
    });
    const logged = loggableError(new AggregateError([refused], 'all addresses failed'));
    expect(logged).toMatchObject({
      type: 'AggregateError',
      errors: [
        { message: 'connect ECONNREFUSED 127.0.0.1:5432', code: 'ECONNREFUSED', syscall: 'connect', port: 5432 },
      ],
    });
  });

  it('drops the other fields of an error and is idempotent', () => {
    const error = Object.assign(new Error('boom'), { config: { headers: { authorization: 'Bearer abc' } } });
    const once = loggableError(error);
    expect(JSON.stringify(once)).not.toContain('Bearer abc');
    expect(loggableError(once)).toBe(once);
    expect(loggableError('text')).toEqual({ type: 'string', message: 'text' });
  });
});
