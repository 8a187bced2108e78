import { ApiResponse } from '@nestjs/swagger';

/** Documents the 423 of a locked credential (see common/lockout.ts): its code, and the Retry-After header. */
export const ApiLockedResponse = (code: string, what: string): MethodDecorator =>
  ApiResponse({
    status: 423,
    description: `${code}: ${what}; \`locked_until\` and \`retry_after\` say when it unlocks`,
    headers: { 'Retry-After': { description: 'Seconds until the lock ends', schema: { type: 'integer' } } },
  });
