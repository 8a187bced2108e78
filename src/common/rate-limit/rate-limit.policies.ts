import { applyDecorators, SetMetadata } from '@nestjs/common';
import { Throttle } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { callerTracker, ipTracker, type Tracker, usernameTracker } from './rate-limit.trackers.js';

const MINUTE = 60_000;

export interface RateLimitPolicyDefinition {
  /** Requests allowed per window (before RATE_LIMIT_MULTIPLIER). */
  readonly limit: number;
  /** Window length, ms. */
  readonly ttl: number;
  readonly tracker: Tracker;
  /**
   * The tracker names a login: when it names an existing account (by username or e-mail),
   * the count is the account's, so its two names share one (RateLimitGuard looks it up).
   */
  readonly byAccount?: boolean;
}

/** The service's named limits, keyed on what an abuse of the route would target. */
export const RATE_LIMIT_POLICIES = {
  register: { limit: 3, ttl: 60 * MINUTE, tracker: ipTracker },
  login: { limit: 5, ttl: 5 * MINUTE, tracker: usernameTracker, byAccount: true },
  otpGenerate: { limit: 30, ttl: MINUTE, tracker: callerTracker },
  otpValidate: { limit: 20, ttl: MINUTE, tracker: callerTracker },
  configCreate: { limit: 10, ttl: 60 * MINUTE, tracker: callerTracker },
  mfaVerify: { limit: 10, ttl: 5 * MINUTE, tracker: callerTracker },
} as const satisfies Record<string, RateLimitPolicyDefinition>;

export type RateLimitPolicy = keyof typeof RATE_LIMIT_POLICIES;

export const RATE_LIMIT_POLICY = 'rateLimitPolicy';

/** Puts a route under a named policy instead of the default per-caller limit. */
export const RateLimit = (name: RateLimitPolicy): MethodDecorator & ClassDecorator => {
  const { limit, ttl, tracker } = RATE_LIMIT_POLICIES[name];
  return applyDecorators(
    Throttle({ default: { limit, ttl, getTracker: (request) => tracker(request as FastifyRequest) } }),
    SetMetadata(RATE_LIMIT_POLICY, name),
  );
};
