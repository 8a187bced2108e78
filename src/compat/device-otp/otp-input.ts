/**
 * The device OTP service's clients compute the code as an integer (`code_int % 10**digits`)
 * and send it as a JSON number, so a code such as 012345 arrives as 12345. A number, or a
 * string of digits, is read as that integer and written back with its leading zeros.
 *
 * Answers the code as the device shows it, or null when the value cannot be one: not a
 * non-negative whole number, or more digits than the device's codes have.
 */
export function deviceOtpCode(value: unknown, digits: number): string | null {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0 || value >= 10 ** digits) return null;
    return String(value).padStart(digits, '0');
  }
  if (typeof value === 'string') {
    if (value.length === 0 || value.length > digits || !/^[0-9]+$/.test(value)) return null;
    return value.padStart(digits, '0');
  }
  return null;
}
