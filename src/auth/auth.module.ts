import { createSecretKey } from 'node:crypto';
import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeysModule } from '#src/api-keys/api-keys.module.js';
import { AuditModule } from '#src/audit/audit.module.js';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { CryptoModule } from '#src/crypto/crypto.module.js';
import { MetricsRegistryModule } from '#src/metrics/metrics-registry.module.js';
import { UsersModule } from '#src/users/users.module.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { ApiKeyGuard } from './guards/api-key.guard.js';
import { AuthenticationGuard } from './guards/authentication.guard.js';
import { JwtAuthGuard } from './guards/jwt-auth.guard.js';
import { JwtOrApiKeyGuard } from './guards/jwt-or-api-key.guard.js';
import { RolesGuard } from './guards/roles.guard.js';
import { ScopesGuard } from './guards/scopes.guard.js';
import { MfaService } from './mfa.service.js';
import { RecoveryCode } from './recovery-code.entity.js';
import { Session } from './session.entity.js';
import { SessionsModule } from './sessions.module.js';
import { ApiKeyStrategy } from './strategies/api-key.strategy.js';
import { ApplicationStrategies } from './strategies/application-strategies.js';
import { JwtStrategy } from './strategies/jwt.strategy.js';
import { TokenService } from './token.service.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([Session, RecoveryCode]),
    JwtModule.registerAsync({
      inject: [APP_CONFIG],
      // A KeyObject, made once: given a string, jsonwebtoken first tries (and fails) to parse
      // it as a public key on every verification, which costs an exception per request.
      useFactory: (config: AppConfig) => ({ secret: createSecretKey(Buffer.from(config.jwt.secret, 'utf8')) }),
    }),
    UsersModule,
    SessionsModule,
    ApiKeysModule,
    AuditModule,
    CryptoModule,
    MetricsRegistryModule,
  ],
  controllers: [AuthController],
  providers: [
    AuthService,
    MfaService,
    TokenService,
    // Passport strategies, and the guards over them (run by AuthenticationGuard).
    JwtStrategy,
    ApiKeyStrategy,
    ApplicationStrategies,
    JwtAuthGuard,
    ApiKeyGuard,
    JwtOrApiKeyGuard,
    AuthenticationGuard,
    RolesGuard,
    ScopesGuard,
  ],
  // AppModule makes the three guards global, in order; metrics asks AuthService for sign-in figures;
  // the replaced microservice's MFA routes ask MfaService.
  exports: [AuthenticationGuard, RolesGuard, ScopesGuard, TokenService, AuthService, MfaService],
})
export class AuthModule {}
