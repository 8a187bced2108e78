import { createServer } from 'node:net';
import { BadRequestException } from '@nestjs/common';
import pg from 'pg';
import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { ProblemException } from '#src/common/problem.js';
import { isDatabaseUnavailable, unavailableReason } from './database-unavailable.js';

/** A server-side error as node-postgres raises it, with its SQLSTATE. */
function databaseError(code: string, message = 'server said no'): pg.DatabaseError {
  const error = new pg.DatabaseError(message, message.length, 'error');
  error.code = code;
  return error;
}

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });
const failedQuery = (driverError: Error): QueryFailedError =>
  new QueryFailedError('SELECT secret FROM users WHERE id = $1', ['p4ssw0rd-param'], driverError);

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a reset connection', withCode('read ECONNRESET', 'ECONNRESET')],
    ['a timed-out connection', withCode('connect ETIMEDOUT', 'ETIMEDOUT')],
    ['a lost connection', new Error('Connection terminated unexpectedly')],
    ['a connection timeout', new Error('Connection terminated due to connection timeout')],
    ['a pool with no connection to give in time', new Error('timeout exceeded when trying to connect')],
    ['an administrator shutdown (57P01)', databaseError('57P01')],
    ['a crash shutdown (57P02)', databaseError('57P02')],
    ['a server still starting (57P03)', databaseError('57P03')],
    ['a connection exception (08006)', databaseError('08006')],
    ['a connection failure inside a failed query', failedQuery(new Error('Connection terminated unexpectedly'))],
    ['a shutdown inside a failed query', failedQuery(databaseError('57P01'))],
    [
      'every address of a dual-stack host refusing',
      new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], ''),
    ],
    ['a refusal given as the cause', new Error('wrapped', { cause: withCode('refused', 'ECONNREFUSED') })],
  ])('is true for %s', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', failedQuery(databaseError('23505', 'duplicate key value'))],
    ['a bad input value', failedQuery(databaseError('22P02'))],
    ['a missing table', databaseError('42P01')],
    ['a serialization failure', databaseError('40001')],
    ['a programming error', new TypeError('x is undefined')],
    ['a problem answer', new ProblemException(404, 'NOT_FOUND', 'gone')],
    [
      'an HTTP answer caused by a dropped client connection',
      new BadRequestException('aborted', { cause: withCode('aborted', 'ECONNRESET') }),
    ],
    [
      "Fastify's error for a client that went away",
      Object.assign(withCode('aborted', 'ECONNRESET'), { statusCode: 400 }),
    ],
    ['no error at all', undefined],
    ['a string', 'ECONNREFUSED'],
  ])('is false for %s', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });

  it('is true for what node-postgres raises connecting to a closed port', async () => {
    const client = new pg.Client({ host: 'localhost', port: await closedPort(), connectionTimeoutMillis: 2000 });
    const error = await client.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeDefined();
    expect(isDatabaseUnavailable(error)).toBe(true);
  });
});

describe('unavailableReason', () => {
  it('names the code and message, never the query or its parameters', () => {
    const reason = unavailableReason(failedQuery(databaseError('57P01', 'terminating connection')));
    expect(reason).toBe('57P01: terminating connection');
    expect(unavailableReason(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBe(
      'connect ECONNREFUSED 127.0.0.1:5432',
    );
    expect(unavailableReason(new AggregateError([], ''))).toBe('unreachable');
  });
});
