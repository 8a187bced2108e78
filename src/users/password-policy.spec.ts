import { describe, expect, it } from 'vitest';
import { passwordPolicyViolations } from './password-policy.js';

describe('passwordPolicyViolations', () => {
  it('accepts a password with 12+ chars, upper, lower, digit and special', () => {
    expect(passwordPolicyViolations('Correct-Horse-9')).toEqual([]);
  });

  it.each([
    ['Short-1a', 'at least 12 characters'],
    ['alllowercase-123', 'an upper-case letter'],
    ['ALLUPPERCASE-123', 'a lower-case letter'],
    ['NoDigitsHere-abc', 'a digit'],
    ['NoSpecials1234abc', 'a special character'],
    [`Aa1!${'x'.repeat(130)}`, 'at most 128 characters'],
  ])('refuses %s for lacking %s', (password, violation) => {
    expect(passwordPolicyViolations(password)).toContain(violation);
  });
});
