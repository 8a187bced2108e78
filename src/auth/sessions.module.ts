import { Module } from '@nestjs/common';
import { SessionsRepository } from './sessions.repository.js';

/**
 * The part of the auth module the users module depends on (ending an account's sessions),
 * apart so that AuthModule can import UsersModule without a cycle.
 */
@Module({
  providers: [SessionsRepository],
  exports: [SessionsRepository],
})
export class SessionsModule {}
