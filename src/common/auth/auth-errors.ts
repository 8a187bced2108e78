import { HttpStatus } from '@nestjs/common';
import { ProblemException } from '#src/common/problem.js';

/** 401: no usable credentials. The detail says what is wrong without revealing account facts. */
export const unauthenticated = (code: string, detail: string): ProblemException =>
  new ProblemException(HttpStatus.UNAUTHORIZED, code, detail);

/** 403: authenticated, but this caller may not do this. */
export const forbidden = (code: string, detail: string): ProblemException =>
  new ProblemException(HttpStatus.FORBIDDEN, code, detail);

const AUDITED = new WeakSet<object>();

/**
 * Marks a refusal its handler has audited itself, with more detail and in its own
 * transaction (a failed login): the exception filter counts it but writes no second record.
 */
export function alreadyAudited<T extends ProblemException>(problem: T): T {
  AUDITED.add(problem);
  return problem;
}

export const isAlreadyAudited = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && AUDITED.has(error);
