import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '#src/common/clock.js';

/**
 * The session rules other modules need (sessions are the auth module's table): the users
 * module ends a disabled account's sessions through this, in its own transaction.
 */
@Injectable()
export class SessionsRepository {
  constructor(private readonly clock: Clock) {}

  /** Revokes every live session of a user, but the one kept (the caller's own, after a password change). */
  async endAll(manager: EntityManager, userId: string, exceptSessionId?: string): Promise<void> {
    await manager.query(
      `UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR id <> $3::uuid)`,
      [userId, this.clock.now(), exceptSessionId ?? null],
    );
  }
}
