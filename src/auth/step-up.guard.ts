import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { forbidden } from '#src/common/auth/auth-errors.js';
import { Clock } from '#src/common/clock.js';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';

/** Whether a session that stepped up at `stepUpAt` is still within the step-up lifetime at `now`. */
export function isSteppedUp(stepUpAt: Date | null, now: Date, ttlSeconds: number): boolean {
  return stepUpAt !== null && now.getTime() - stepUpAt.getTime() < ttlSeconds * 1000;
}

/**
 * One job: let a request through only when its session re-authenticated (POST auth/step-up)
 * within STEP_UP_TTL, by the injected clock. Runs after the global authentication guards,
 * whose session read already carries the step-up time, so the check costs no query. A
 * refusal is a 403 STEP_UP_REQUIRED, audited (as every refusal) by the exception filter.
 */
@Injectable()
export class StepUpGuard implements CanActivate {
  constructor(
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const principal = request.principal;
    if (principal?.kind === 'user' && isSteppedUp(principal.stepUpAt, this.clock.now(), this.config.stepUpTtlSeconds)) {
      return true;
    }
    throw forbidden(
      'STEP_UP_REQUIRED',
      `Confirm your password (and MFA code) with POST /api/v1/auth/step-up first; it counts for ${this.config.stepUpTtlSeconds} seconds.`,
    );
  }
}
