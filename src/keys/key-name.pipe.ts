import { HttpStatus, PipeTransform } from '@nestjs/common';
import { ProblemException } from '#src/common/problem.js';
import { isValidKeyName } from './usage-key-rules.js';

/** `@Param('name', KeyNameParam)`: a malformed name is a 400 with the usual problem shape. */
export const KeyNameParam: PipeTransform<string, string> = {
  transform(value: string): string {
    if (isValidKeyName(value)) return value;
    const message = 'name must be 1-100 letters, digits, dot, dash, underscore, colon or @';
    throw new ProblemException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', message, {
      errors: [{ field: 'name', messages: [message] }],
    });
  },
};
