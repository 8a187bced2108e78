/** NIST SP 800-63B allows long passphrases; 128 bounds the hashing work per request. */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

/** What a password lacks under the house policy; empty when it is acceptable. */
export function passwordPolicyViolations(password: string): string[] {
  const violations: string[] = [];
  if (password.length < PASSWORD_MIN_LENGTH) violations.push(`at least ${PASSWORD_MIN_LENGTH} characters`);
  if (password.length > PASSWORD_MAX_LENGTH) violations.push(`at most ${PASSWORD_MAX_LENGTH} characters`);
  if (!/[a-z]/.test(password)) violations.push('a lower-case letter');
  if (!/[A-Z]/.test(password)) violations.push('an upper-case letter');
  if (!/[0-9]/.test(password)) violations.push('a digit');
  if (!/[^A-Za-z0-9]/.test(password)) violations.push('a special character');
  return violations;
}
