import { BoundedMap } from '#src/common/bounded-map.js';

/** The code of one configuration for one TOTP step, and what it was computed from. */
interface CachedCode {
  step: number;
  /** The stored ciphertext and parameters: a new secret or new parameters never reuse a code. */
  source: string;
  code: string;
}

// About 200 bytes an entry: a few MB at most.
const DEFAULT_CAPACITY = 20_000;

/**
 * The current codes of the configurations whose live codes were shown lately. A live-codes
 * view (a person's whole list, polled every few seconds) then decrypts and HMACs only the codes
 * not computed yet in their step. An entry is used only for the same step and the same stored
 * ciphertext and parameters, so a replaced secret (on any instance) gives its new code at once.
 * Holds codes that are shown anyway, never secrets; bounded, the oldest entry goes first.
 */
export class LiveCodeCache {
  private readonly codes: BoundedMap<CachedCode>;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.codes = new BoundedMap(capacity);
  }

  get(configId: string, step: number, source: string): string | undefined {
    const cached = this.codes.get(configId);
    return cached && cached.step === step && cached.source === source ? cached.code : undefined;
  }

  set(configId: string, step: number, source: string, code: string): void {
    this.codes.set(configId, { step, source, code });
  }

  get size(): number {
    return this.codes.size;
  }
}
