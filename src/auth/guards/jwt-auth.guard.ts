import { Injectable } from '@nestjs/common';
import { passportGuard } from './passport-guard.js';

/** A signed-in person: a JWT access token (the `jwt` strategy), refusals as the service's problems. */
@Injectable()
export class JwtAuthGuard extends passportGuard('jwt', { users: true, apiKeys: false }) {}
