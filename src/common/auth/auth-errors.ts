import { HttpStatus } from '@nestjs/common';
import { ProblemException } from '#src/common/problem.js';

/** 401: no usable credentials. The detail says what is wrong without revealing account facts. */
export const unauthenticated = (code: string, detail: string): ProblemException =>
  new ProblemException(HttpStatus.UNAUTHORIZED, code, detail);

/** 403: authenticated, but this caller may not do this. */
export const forbidden = (code: string, detail: string): ProblemException =>
  new ProblemException(HttpStatus.FORBIDDEN, code, detail);
