import { Injectable } from '@nestjs/common';
import { passportGuard } from './passport-guard.js';

/** An enterprise client: an API key (the `api-key` strategy), refusals as the service's problems. */
@Injectable()
export class ApiKeyGuard extends passportGuard('api-key', { users: false, apiKeys: true }) {}
