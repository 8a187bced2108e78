import { BoundedMap } from '#src/common/bounded-map.js';
import type { OtpAlgorithm, OtpDigits } from '#src/otp/otp-engine.js';

/** What checking a TOTP code needs of a configuration; the secret as stored (encrypted). */
export interface ValidationCopy {
  id: string;
  ownerId: string;
  secret: string;
  algorithm: OtpAlgorithm;
  digits: OtpDigits;
  period: number;
}

// About 300 bytes an entry: a few MB at most.
const DEFAULT_CAPACITY = 20_000;

/**
 * Copies of the TOTP configurations validated lately, so a validation can check the code before
 * reading the configuration. A copy is only a guess: the statement that accepts the code holds
 * only while the owner, the stored secret and the parameters are the copy's, so a change (on any
 * instance) costs one more round trip, never a wrong answer. Holds ciphertexts, never secrets;
 * bounded, the oldest entry goes first.
 */
export class ValidationCopies {
  private readonly copies: BoundedMap<ValidationCopy>;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.copies = new BoundedMap(capacity);
  }

  of(configId: string): ValidationCopy | undefined {
    return this.copies.get(configId);
  }

  remember(config: {
    id: string;
    ownerId: string;
    secret: string;
    algorithm: OtpAlgorithm;
    digits: OtpDigits;
    period: number | null;
  }): void {
    if (config.period === null) return;
    const { id, ownerId, secret, algorithm, digits, period } = config;
    this.copies.set(id, { id, ownerId, secret, algorithm, digits, period });
  }
}
