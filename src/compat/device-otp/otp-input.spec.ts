import { describe, expect, it } from 'vitest';
import { deviceOtpCode } from './otp-input.js';

describe(deviceOtpCode.name, () => {
  it('left-pads an integer to the number of digits', () => {
    expect(deviceOtpCode(123, 6)).toBe('000123');
    expect(deviceOtpCode(0, 6)).toBe('000000');
    expect(deviceOtpCode(999_999, 6)).toBe('999999');
    expect(deviceOtpCode(12_345_678, 8)).toBe('12345678');
  });

  it('reads a string of digits as the integer it spells', () => {
    expect(deviceOtpCode('012345', 6)).toBe('012345');
    expect(deviceOtpCode('12345', 6)).toBe('012345');
  });

  it('refuses negatives, fractions, too many digits and other types', () => {
    for (const value of [-1, 1.5, 1_000_000, Number.NaN, Infinity, 2 ** 60, true, null, undefined, {}, [123456]]) {
      expect(deviceOtpCode(value, 6), String(value)).toBeNull();
    }
    for (const value of ['', '1234567', '-12345', '12 345', '１２３４５６', '1e5', '0x1f']) {
      expect(deviceOtpCode(value, 6), value).toBeNull();
    }
  });
});
