import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '#src/audit/audit.module.js';
import { SessionsModule } from '#src/auth/sessions.module.js';
import { AdminBootstrap } from './admin-bootstrap.js';
import { User } from './user.entity.js';
import { RegistrationController, UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([User]), AuditModule, SessionsModule],
  controllers: [RegistrationController, UsersController],
  providers: [UsersService, AdminBootstrap],
  exports: [UsersService],
})
export class UsersModule {}
