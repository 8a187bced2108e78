import type { CompatErrorAnswer } from '#src/compat/compat-error-shapes.js';
import type { ProblemDetails } from '#src/common/problem.js';
import type { LiveCodeDto } from '#src/otp-configs/dto/otp-codes.dto.js';
import type { MfaManagerCompatCodeDto } from './mfa-manager-compat.dto.js';

export function toCompatCode(code: LiveCodeDto): MfaManagerCompatCodeDto {
  return { account_name: code.name, id: code.config_id, remaining_time: code.remaining_seconds, totp_code: code.code };
}

/**
 * The manager's error body, `{"error": "..."}`. It knew only live TOTP accounts, so a
 * deactivated or HOTP configuration (absent from its list) is "not found" like an unknown
 * or foreign id; other refusals keep their status and say the problem's detail.
 */
export function mfaManagerErrorShape(problem: ProblemDetails): CompatErrorAnswer {
  switch (problem.code) {
    case 'CONFIG_NOT_FOUND':
    case 'CONFIG_INACTIVE':
    case 'TOTP_ONLY':
      return { status: 404, body: { error: 'Account not found' } };
    default:
      return { body: { error: problem.detail } };
  }
}
