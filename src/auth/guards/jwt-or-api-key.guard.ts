import { Injectable } from '@nestjs/common';
import { passportGuard } from './passport-guard.js';

/**
 * Either credential: an API key or a JWT access token, whichever the request carries (the
 * API-key strategy is tried first: it declines a request without a key before any look-up).
 */
@Injectable()
export class JwtOrApiKeyGuard extends passportGuard(['api-key', 'jwt'], { users: true, apiKeys: true }) {}
