import { Injectable } from '@nestjs/common';
import type { Strategy } from 'passport';
import { ApiKeyStrategy, API_KEY_STRATEGY } from './api-key.strategy.js';
import type { ApplicationAuthenticateOptions } from './application-strategy.js';
import { JwtStrategy, JWT_STRATEGY } from './jwt.strategy.js';

/** This application's strategies, and the authenticate options its guards pass to passport. */
@Injectable()
export class ApplicationStrategies {
  readonly authenticateOptions: ApplicationAuthenticateOptions & { session: false; property: 'principal' };

  constructor(jwt: JwtStrategy, apiKey: ApiKeyStrategy) {
    this.authenticateOptions = {
      // Stateless: no passport session; the principal lands on request.principal.
      session: false,
      property: 'principal',
      strategies: Object.freeze({
        [JWT_STRATEGY]: jwt as unknown as Strategy,
        [API_KEY_STRATEGY]: apiKey as unknown as Strategy,
      }),
    };
  }
}
