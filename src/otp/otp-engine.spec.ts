import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { generateSync } from 'otplib';
import { describe, expect, it } from 'vitest';
import { decodeBase32, encodeBase32 } from './base32.js';
import {
  type OtpAlgorithm,
  type OtpDigits,
  defaultSecretBytes,
  generateHotp,
  generateTotp,
  hotpCode,
  resyncHotp,
  totpStep,
  verifyHotp,
  verifyTotp,
} from './otp-engine.js';

const RFC4226_SECRET = Buffer.from('12345678901234567890', 'ascii');
const RFC6238_SEEDS: Record<OtpAlgorithm, Buffer> = {
  sha1: Buffer.from('12345678901234567890', 'ascii'),
  sha256: Buffer.from('12345678901234567890123456789012', 'ascii'),
  sha512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234', 'ascii'),
};

/** Small seeded PRNG so the "random" cross-check cases are reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seededBytes(next: () => number, length: number): Buffer {
  return Buffer.from(Array.from({ length }, () => Math.floor(next() * 256)));
}

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)]!;
}

const oathtool = '/usr/bin/oathtool';

function runOathtool(args: string[]): string {
  const result = spawnSync(oathtool, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`oathtool ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout.trim();
}

describe('hotpCode', () => {
  it.each([
    [0, '755224'],
    [1, '287082'],
    [2, '359152'],
    [3, '969429'],
    [4, '338314'],
    [5, '254676'],
    [6, '287922'],
    [7, '162583'],
    [8, '399871'],
    [9, '520489'],
  ])('matches RFC 4226 Appendix D for counter %i', (counter, expected) => {
    expect(hotpCode(RFC4226_SECRET, counter, 'sha1', 6)).toBe(expected);
    expect(hotpCode(RFC4226_SECRET, BigInt(counter), 'sha1', 6)).toBe(expected);
  });

  it('zero-pads codes to the requested number of digits', () => {
    // RFC 6238 vector 07081804 starts with a zero.
    expect(hotpCode(RFC6238_SEEDS.sha1, 37037036, 'sha1', 8)).toBe('07081804');
  });

  it("accepts counters up to 2^53-1 (otplib's limit) and rejects outside 0..2^53-1 with a RangeError", () => {
    const max = Number.MAX_SAFE_INTEGER;
    // oathtool -c takes a 64-bit counter: an independent value for the largest one.
    const expected = runOathtool(['--hotp', '-c', String(max), RFC4226_SECRET.toString('hex')]);
    expect(hotpCode(RFC4226_SECRET, max, 'sha1', 6)).toBe(expected);
    expect(hotpCode(RFC4226_SECRET, BigInt(max), 'sha1', 6)).toBe(expected);
    expect(() => hotpCode(RFC4226_SECRET, BigInt(max) + 1n, 'sha1', 6)).toThrow(RangeError);
    expect(() => hotpCode(RFC4226_SECRET, (1n << 64n) - 1n, 'sha1', 6)).toThrow(RangeError);
    expect(() => hotpCode(RFC4226_SECRET, -1, 'sha1', 6)).toThrow(RangeError);
    expect(() => hotpCode(RFC4226_SECRET, -1n, 'sha1', 6)).toThrow(RangeError);
    expect(() => hotpCode(RFC4226_SECRET, 1.5, 'sha1', 6)).toThrow(RangeError);
  });

  it('rejects an empty secret and an unknown algorithm', () => {
    expect(() => hotpCode(Buffer.alloc(0), 0, 'sha1', 6)).toThrow(/non-empty/);
    expect(() => hotpCode(RFC4226_SECRET, 0, 'md5' as OtpAlgorithm, 6)).toThrow(/algorithm must be one of/);
  });

  it('takes secrets of 10 to 128 bytes (the supplied-secret bounds) and rejects 9 or 129 with a RangeError', () => {
    expect(hotpCode(Buffer.alloc(10, 1), 0, 'sha1', 6)).toBe(runOathtool(['--hotp', '-c', '0', '01'.repeat(10)]));
    expect(hotpCode(Buffer.alloc(128, 1), 0, 'sha1', 6)).toBe(runOathtool(['--hotp', '-c', '0', '01'.repeat(128)]));
    expect(() => hotpCode(Buffer.alloc(9, 1), 0, 'sha1', 6)).toThrow('secret must be from 10 to 128 bytes, got 9');
    expect(() => hotpCode(Buffer.alloc(129, 1), 0, 'sha1', 6)).toThrow(RangeError);
  });

  it('rejects 9 or 5 digits with a RangeError', () => {
    expect(() => hotpCode(RFC4226_SECRET, 0, 'sha1', 9 as OtpDigits)).toThrow(RangeError);
    expect(() => hotpCode(RFC4226_SECRET, 0, 'sha1', 9 as OtpDigits)).toThrow(
      'digits must be an integer from 6 to 8, got 9',
    );
    expect(() => hotpCode(RFC4226_SECRET, 0, 'sha1', 5 as OtpDigits)).toThrow(RangeError);
  });

  it('equals otplib generate for secrets of 16 bytes or more', () => {
    const next = mulberry32(4226);
    for (let i = 0; i < 30; i++) {
      const algorithm = pick(next, ['sha1', 'sha256', 'sha512'] as const);
      const digits = pick(next, [6, 7, 8] as const);
      const secret = seededBytes(next, pick(next, [16, 20, 32, 64]));
      const counter = Math.floor(next() * 1e9);
      const period = pick(next, [15, 30, 45, 60, 90]);
      const seconds = Math.floor(next() * 4e9);
      const bytes = new Uint8Array(secret);
      expect(hotpCode(secret, counter, algorithm, digits)).toBe(
        generateSync({ strategy: 'hotp', secret: bytes, algorithm, digits, counter }),
      );
      expect(generateTotp({ secret, algorithm, digits, period, now: seconds * 1000 }).code).toBe(
        generateSync({ secret: bytes, algorithm, digits, period, epoch: seconds }),
      );
    }
  });

  it('works with an 80-bit secret that otplib refuses by default', () => {
    const secret = decodeBase32('JBSWY3DPEHPK3PXP');
    expect(secret.length).toBe(10);
    expect(() => generateSync({ secret: new Uint8Array(secret), epoch: 59 })).toThrow(/at least 16 bytes/);
    expect(generateTotp({ secret, algorithm: 'sha1', digits: 6, period: 30, now: 59_000 }).code).toMatch(/^\d{6}$/);
  });
});

describe('totpStep', () => {
  it('is floor(now / 1000 / period)', () => {
    expect(totpStep(0, 30)).toBe(0);
    expect(totpStep(29_999, 30)).toBe(0);
    expect(totpStep(30_000, 30)).toBe(1);
    expect(totpStep(1_111_111_109_000, 30)).toBe(37037036);
    expect(totpStep(59_999, 60)).toBe(0);
  });

  it('rejects a period of 5 or 301 seconds with a RangeError', () => {
    expect(() => totpStep(0, 5)).toThrow('period must be an integer from 10 to 300 seconds, got 5');
    expect(() => totpStep(0, 301)).toThrow(RangeError);
    expect(() => totpStep(0, 30.5)).toThrow(RangeError);
  });

  it('rejects a negative or non-finite time', () => {
    expect(() => totpStep(-1, 30)).toThrow(RangeError);
    expect(() => totpStep(Number.NaN, 30)).toThrow(RangeError);
  });
});

describe('generateTotp', () => {
  const times = [59, 1111111109, 1111111111, 1234567890, 2000000000, 20000000000];
  const expected: Record<OtpAlgorithm, string[]> = {
    sha1: ['94287082', '07081804', '14050471', '89005924', '69279037', '65353130'],
    sha256: ['46119246', '68084774', '67062674', '91819424', '90698825', '77737706'],
    sha512: ['90693936', '25091201', '99943326', '93441116', '38618901', '47863826'],
  };
  const vectors = (Object.keys(expected) as OtpAlgorithm[]).flatMap((algorithm) =>
    times.map((seconds, i) => ({ algorithm, seconds, code: expected[algorithm][i]! })),
  );

  it.each(vectors)('matches RFC 6238 Appendix B: $algorithm at T=$seconds is $code', ({ algorithm, seconds, code }) => {
    const result = generateTotp({
      secret: RFC6238_SEEDS[algorithm],
      algorithm,
      digits: 8,
      period: 30,
      now: seconds * 1000,
    });
    expect(result.code).toBe(code);
    expect(result.step).toBe(Math.floor(seconds / 30));
  });

  it('reports remaining seconds from period down to 1', () => {
    const base = { secret: RFC4226_SECRET, algorithm: 'sha1', digits: 6, period: 30 } as const;
    expect(generateTotp({ ...base, now: 60_000 }).remainingSeconds).toBe(30);
    expect(generateTotp({ ...base, now: 60_999 }).remainingSeconds).toBe(30);
    expect(generateTotp({ ...base, now: 61_000 }).remainingSeconds).toBe(29);
    expect(generateTotp({ ...base, now: 89_999 }).remainingSeconds).toBe(1);
  });

  it('rejects digits 9 and period 5 with RangeErrors', () => {
    const base = { secret: RFC4226_SECRET, algorithm: 'sha1', now: 0 } as const;
    expect(() => generateTotp({ ...base, digits: 9 as OtpDigits, period: 30 })).toThrow(RangeError);
    expect(() => generateTotp({ ...base, digits: 6, period: 5 })).toThrow(RangeError);
  });
});

describe('cross-check with oathtool', () => {
  it('has the independent implementation installed (apt-get install oathtool)', () => {
    expect(existsSync(oathtool)).toBe(true);
  });

  const next = mulberry32(6238);
  const cases = Array.from({ length: 30 }, (_, i) => ({
    name: `case ${i + 1}`,
    algorithm: pick(next, ['sha1', 'sha256', 'sha512'] as const),
    digits: pick(next, [6, 7, 8] as const),
    period: pick(next, [15, 30, 45, 60, 90]),
    secret: seededBytes(next, pick(next, [10, 20, 32, 64])),
    seconds: Math.floor(next() * 4_000_000_000),
    counter: Math.floor(next() * 2 ** 40),
  })).map((c) => ({ ...c, bytes: c.secret.length }));

  it.each(cases)(
    'TOTP $name: $algorithm, $digits digits, period $period, $bytes-byte secret',
    ({ algorithm, digits, period, secret, seconds }) => {
      const expected = runOathtool([
        `--totp=${algorithm.toUpperCase()}`,
        '-d',
        String(digits),
        '-s',
        `${period}s`,
        '-N',
        `@${seconds}`,
        '-b',
        encodeBase32(secret),
      ]);
      expect(generateTotp({ secret, algorithm, digits, period, now: seconds * 1000 }).code).toBe(expected);
    },
  );

  // oathtool's HOTP mode is SHA-1 only.
  it.each(cases)('HOTP $name: $digits digits, $bytes-byte secret', ({ digits, secret, counter }) => {
    const expected = runOathtool(['--hotp', '-c', String(counter), '-d', String(digits), secret.toString('hex')]);
    expect(generateHotp({ secret, algorithm: 'sha1', digits, counter })).toBe(expected);
  });

  it('agrees on the 80-bit secret JBSWY3DPEHPK3PXP', () => {
    const secret = decodeBase32('JBSWY3DPEHPK3PXP');
    for (const seconds of [59, 1_700_000_000, 2_000_000_000]) {
      const expected = runOathtool(['--totp', '-N', `@${seconds}`, '-b', 'JBSWY3DPEHPK3PXP']);
      expect(generateTotp({ secret, algorithm: 'sha1', digits: 6, period: 30, now: seconds * 1000 }).code).toBe(
        expected,
      );
    }
    expect(generateHotp({ secret, algorithm: 'sha1', digits: 6, counter: 7 })).toBe(
      runOathtool(['--hotp', '-c', '7', secret.toString('hex')]),
    );
  });
});

describe('verifyTotp', () => {
  const secret = RFC6238_SEEDS.sha1;
  const params = { secret, algorithm: 'sha1', digits: 6, period: 30 } as const;
  const now = 1_700_000_015_000; // mid-step
  const current = totpStep(now, 30);
  const codeAt = (step: number): string => hotpCode(secret, step, 'sha1', 6);

  it('accepts the current code with drift 0', () => {
    expect(verifyTotp({ ...params, now, code: codeAt(current) })).toEqual({ valid: true, step: current, drift: 0 });
  });

  it('accepts a code from one step back with drift -1', () => {
    expect(verifyTotp({ ...params, now, code: codeAt(current - 1) })).toEqual({
      valid: true,
      step: current - 1,
      drift: -1,
    });
  });

  it('accepts a code from one step ahead with drift +1', () => {
    expect(verifyTotp({ ...params, now, code: codeAt(current + 1) })).toEqual({
      valid: true,
      step: current + 1,
      drift: 1,
    });
  });

  it('rejects a code from two steps back', () => {
    expect(verifyTotp({ ...params, now, code: codeAt(current - 2) })).toEqual({ valid: false, reason: 'mismatch' });
  });

  it('rejects a code from two steps ahead', () => {
    expect(verifyTotp({ ...params, now, code: codeAt(current + 2) })).toEqual({ valid: false, reason: 'mismatch' });
  });

  it('accepts two steps back when the window is 2', () => {
    expect(verifyTotp({ ...params, now, window: 2, code: codeAt(current - 2) })).toMatchObject({
      valid: true,
      drift: -2,
    });
  });

  it('accepts only the current step when the window is 0', () => {
    expect(verifyTotp({ ...params, now, window: 0, code: codeAt(current - 1) }).valid).toBe(false);
    expect(verifyTotp({ ...params, now, window: 0, code: codeAt(current) }).valid).toBe(true);
  });

  it('refuses a replay of the step already accepted', () => {
    expect(verifyTotp({ ...params, now, code: codeAt(current), afterStep: current })).toEqual({
      valid: false,
      reason: 'replay',
    });
  });

  it('refuses an older step than the last accepted one as a replay', () => {
    expect(verifyTotp({ ...params, now, code: codeAt(current - 1), afterStep: current })).toEqual({
      valid: false,
      reason: 'replay',
    });
  });

  it('accepts a later step than the last accepted one', () => {
    expect(verifyTotp({ ...params, now, code: codeAt(current + 1), afterStep: current })).toMatchObject({
      valid: true,
      step: current + 1,
    });
    expect(verifyTotp({ ...params, now, code: codeAt(current), afterStep: null })).toMatchObject({ valid: true });
  });

  it.each([
    ['too short', '12345'],
    ['too long', '1234567'],
    ['non-digit', '12a456'],
    ['non-ASCII digits', '١٢٣٤٥٦'],
    ['surrounding spaces', ' 123456 '],
    ['empty', ''],
  ])('refuses a %s code as a mismatch without throwing', (_label, code) => {
    expect(verifyTotp({ ...params, now, code })).toEqual({ valid: false, reason: 'mismatch' });
  });

  it('does not look at negative steps near the epoch', () => {
    expect(verifyTotp({ ...params, now: 1000, code: codeAt(0) })).toEqual({ valid: true, step: 0, drift: 0 });
  });

  it('rejects a window above 10', () => {
    expect(() => verifyTotp({ ...params, now, window: 11, code: codeAt(current) })).toThrow(RangeError);
  });
});

describe('HOTP', () => {
  const params = { secret: RFC4226_SECRET, algorithm: 'sha1', digits: 6 } as const;

  it('generates RFC 4226 codes', () => {
    expect(generateHotp({ ...params, counter: 0 })).toBe('755224');
    expect(generateHotp({ ...params, counter: 9 })).toBe('520489');
  });

  it('accepts the code at the current counter', () => {
    expect(verifyHotp({ ...params, counter: 3, code: '969429' })).toEqual({
      valid: true,
      matchedCounter: 3,
      nextCounter: 4,
    });
  });

  it('finds a code within the look-ahead and returns the counter after it', () => {
    expect(verifyHotp({ ...params, counter: 2, code: '399871' })).toEqual({
      valid: true,
      matchedCounter: 8,
      nextCounter: 9,
    });
  });

  it('refuses a code beyond the look-ahead', () => {
    expect(verifyHotp({ ...params, counter: 2, lookAhead: 5, code: '399871' })).toEqual({ valid: false });
  });

  it('refuses a code of a counter below the current one', () => {
    expect(verifyHotp({ ...params, counter: 5, code: '338314' })).toEqual({ valid: false });
  });

  it('refuses a malformed code without throwing', () => {
    expect(verifyHotp({ ...params, counter: 0, code: '75522' })).toEqual({ valid: false });
    expect(verifyHotp({ ...params, counter: 0, code: 'abcdef' })).toEqual({ valid: false });
  });

  it('resynchronises with two consecutive codes', () => {
    const codes = [generateHotp({ ...params, counter: 57 }), generateHotp({ ...params, counter: 58 })] as const;
    expect(resyncHotp({ ...params, counter: 0, codes })).toEqual({ valid: true, nextCounter: 59 });
  });

  it('does not resynchronise with two non-consecutive codes', () => {
    const codes = [generateHotp({ ...params, counter: 57 }), generateHotp({ ...params, counter: 59 })] as const;
    expect(resyncHotp({ ...params, counter: 0, codes })).toEqual({ valid: false });
  });

  it('does not resynchronise with codes in reverse order', () => {
    const codes = [generateHotp({ ...params, counter: 58 }), generateHotp({ ...params, counter: 57 })] as const;
    expect(resyncHotp({ ...params, counter: 0, codes })).toEqual({ valid: false });
  });

  it('does not resynchronise when the second code lies beyond the look-ahead', () => {
    const codes = [generateHotp({ ...params, counter: 10 }), generateHotp({ ...params, counter: 11 })] as const;
    expect(resyncHotp({ ...params, counter: 0, lookAhead: 10, codes })).toEqual({ valid: false });
    expect(resyncHotp({ ...params, counter: 0, lookAhead: 11, codes })).toEqual({ valid: true, nextCounter: 12 });
  });

  it('finds a code 1000 counters ahead and rejects a negative counter and a look-ahead above 1000', () => {
    const code = generateHotp({ ...params, counter: 1000 });
    expect(verifyHotp({ ...params, counter: 0, lookAhead: 1000, code })).toMatchObject({ matchedCounter: 1000 });
    expect(() => verifyHotp({ ...params, counter: -1, code: '755224' })).toThrow(RangeError);
    expect(() => verifyHotp({ ...params, counter: 0, lookAhead: 1001, code: '755224' })).toThrow(RangeError);
  });
});

describe('defaultSecretBytes', () => {
  it('matches the HMAC output size of each algorithm', () => {
    expect(defaultSecretBytes('sha1')).toBe(20);
    expect(defaultSecretBytes('sha256')).toBe(32);
    expect(defaultSecretBytes('sha512')).toBe(64);
  });
});
