import { describe, expect, it } from 'vitest';
import { problemDetails } from '#src/common/problem.js';
import { mfaManagerErrorShape, toCompatCode } from './mfa-manager-compat.mapper.js';

describe(mfaManagerErrorShape.name, () => {
  it('answers unknown, deactivated and HOTP configurations alike: 404 "Account not found"', () => {
    const answers = [
      problemDetails(404, 'CONFIG_NOT_FOUND', 'No such OTP configuration.', 'r1'),
      problemDetails(409, 'CONFIG_INACTIVE', 'This OTP configuration is deactivated.', 'r2'),
      problemDetails(400, 'TOTP_ONLY', 'Live codes exist for TOTP configurations only.', 'r3'),
    ].map(mfaManagerErrorShape);
    for (const answer of answers) expect(answer).toEqual({ status: 404, body: { error: 'Account not found' } });
  });

  it("keeps any other refusal's status and says its detail", () => {
    expect(mfaManagerErrorShape(problemDetails(429, 'RATE_LIMITED', 'Too many requests', 'r1'))).toEqual({
      body: { error: 'Too many requests' },
    });
  });
});

describe(toCompatCode.name, () => {
  it("names the account by the configuration's name and its id by the configuration's uuid", () => {
    expect(
      toCompatCode({
        config_id: '5f0c3c52-7c1e-4a39-9d0b-2f6b7d1c9a10',
        name: 'GitHub',
        issuer: 'GitHub Inc.',
        account_name: 'alice@example.com',
        code: '012345',
        remaining_seconds: 9,
        interval: 30,
        digits: 6,
      }),
    ).toStrictEqual({
      account_name: 'GitHub',
      id: '5f0c3c52-7c1e-4a39-9d0b-2f6b7d1c9a10',
      remaining_time: 9,
      totp_code: '012345',
    });
  });
});
