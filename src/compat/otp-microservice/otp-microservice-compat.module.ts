import { Inject, Module, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AuditModule } from '#src/audit/audit.module.js';
import { AuthModule } from '#src/auth/auth.module.js';
import { CompatErrorShapes } from '#src/compat/compat-error-shapes.js';
import { COMPAT_PATHS } from '#src/compat/compat-paths.js';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { MetricsModule } from '#src/metrics/metrics.module.js';
import { OtpConfigsModule } from '#src/otp-configs/otp-configs.module.js';
import { UsersModule } from '#src/users/users.module.js';
import { fastApiErrorShape } from './fastapi-error-shape.js';
import { IntegerIdsRepository } from './integer-ids.repository.js';
import { OtpMicroserviceAdminController } from './otp-microservice-admin.controller.js';
import { OtpMicroserviceAuthController } from './otp-microservice-auth.controller.js';
import { OtpMicroserviceOtpController } from './otp-microservice-otp.controller.js';
import { OtpMicroserviceService } from './otp-microservice.service.js';
import { registerTokenFormParser } from './token-form-parser.js';

const BASE = `/${COMPAT_PATHS.otpMicroservice}`;

/** The routes of 004, the multi-user OTP microservice (COMPAT_OTP_MICROSERVICE). */
@Module({
  imports: [AuthModule, UsersModule, OtpConfigsModule, MetricsModule, AuditModule],
  controllers: [OtpMicroserviceAuthController, OtpMicroserviceOtpController, OtpMicroserviceAdminController],
  providers: [OtpMicroserviceService, IntegerIdsRepository],
})
export class OtpMicroserviceCompatModule implements OnModuleInit {
  constructor(
    private readonly errorShapes: CompatErrorShapes,
    private readonly adapter: HttpAdapterHost,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Before the server is ready: FastAPI's error bodies under the prefix, and the token route's form bodies. */
  onModuleInit(): void {
    this.errorShapes.register(BASE, fastApiErrorShape);
    const fastify = this.adapter.httpAdapter.getInstance<FastifyInstance>();
    registerTokenFormParser(fastify, `${BASE}/token`, this.config.bodyLimitBytes);
  }
}
