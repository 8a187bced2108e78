import { describe, expect, it } from 'vitest';
import { problemDetails } from '#src/common/problem.js';
import { usageKeysErrorShape } from './usage-keys-compat.mapper.js';

describe(usageKeysErrorShape.name, () => {
  it("turns the service's 409 KEY_DEPLETED into the system's 403 with the key's own figures", () => {
    const problem = problemDetails(409, 'KEY_DEPLETED', 'The key "k" has no uses left.', 'r1', {
      key: 'k',
      usage_info: { max_uses: 7, usage_count: 7, remaining_uses: 0 },
    });
    expect(usageKeysErrorShape(problem)).toEqual({
      status: 403,
      body: { error: 'Key has reached its usage limit (7/7 uses)' },
    });
  });

  it('answers an expired key 403 and an unreached name 404 with the same body whatever the name', () => {
    expect(usageKeysErrorShape(problemDetails(409, 'KEY_EXPIRED', 'x', 'r1'))).toEqual({
      status: 403,
      body: { error: 'Key has expired' },
    });
    expect(usageKeysErrorShape(problemDetails(404, 'KEY_NOT_FOUND', 'No key named "a".', 'r1'))).toEqual(
      usageKeysErrorShape(problemDetails(404, 'KEY_NOT_FOUND', 'No key named "b".', 'r2')),
    );
  });

  it("says each bad field's first fault, else the problem's detail, keeping the problem's status", () => {
    const invalid = problemDetails(400, 'VALIDATION_FAILED', 'Validation failed: key, extra', 'r1', {
      errors: [
        { field: 'key', messages: ['key must be a string', 'key must be longer than or equal to 1 characters'] },
        { field: 'extra', messages: ['property extra should not exist'] },
      ],
    });
    expect(usageKeysErrorShape(invalid)).toEqual({
      body: { error: 'key must be a string; property extra should not exist' },
    });
    expect(usageKeysErrorShape(problemDetails(401, 'AUTHENTICATION_REQUIRED', 'Sign in first.', 'r1'))).toEqual({
      body: { error: 'Sign in first.' },
    });
  });
});
