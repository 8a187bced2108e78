import { ApiConflictResponse } from '@nestjs/swagger';
import { SECRET_UNREADABLE } from './problem.js';

/**
 * Documents the 409 of a route that reads a stored secret the key ring may fail to decrypt,
 * with the route's own 409 codes (one description per status) before it.
 */
export const ApiSecretUnreadableResponse = (otherConflicts?: string): MethodDecorator & ClassDecorator =>
  ApiConflictResponse({
    description: `${otherConflicts ? `${otherConflicts}; or ` : ''}${SECRET_UNREADABLE.code}: the stored secret cannot be decrypted with ENCRYPTION_KEYS`,
  });
