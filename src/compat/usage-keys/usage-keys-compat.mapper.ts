import type { CompatErrorAnswer } from '#src/compat/compat-error-shapes.js';
import type { ProblemDetails } from '#src/common/problem.js';
import type {
  KeyCodeResponseDto,
  KeyInfoResponseDto,
  KeyValidateResponseDto,
  UsageInfoDto,
} from '#src/keys/dto/usage-key.dto.js';
import type {
  UsageKeysCompatCodeDto,
  UsageKeysCompatInfoDto,
  UsageKeysCompatValidityDto,
} from './usage-keys-compat.dto.js';

export function toCompatCode(answer: KeyCodeResponseDto): UsageKeysCompatCodeDto {
  return {
    success: true,
    key: answer.key,
    code: answer.code,
    remaining_time: answer.remaining_seconds,
    usage_info: answer.usage_info,
  };
}

export function toCompatValidity(answer: KeyValidateResponseDto): UsageKeysCompatValidityDto {
  return { key: answer.key, valid: answer.valid, usage_info: answer.usage_info };
}

/** The info of a key the caller reaches (the service answers `exists: false` otherwise). */
export function toCompatInfo(answer: Required<KeyInfoResponseDto>): UsageKeysCompatInfoDto {
  return {
    key: answer.key,
    exists: true,
    max_uses: answer.max_uses,
    usage_count: answer.usage_count,
    remaining_uses: answer.remaining_uses,
    last_used: answer.last_used,
    created_at: answer.created_at,
  };
}

/**
 * The system's error bodies: a bare `{"error": "..."}`. It refused a spent key with 403 and
 * the key's figures, an unknown one with 404; the service's 409 KEY_DEPLETED / KEY_EXPIRED
 * become that 403. Every other refusal keeps its status and says the problem's detail (or,
 * for bad input, what is wrong with which field).
 */
export function usageKeysErrorShape(problem: ProblemDetails): CompatErrorAnswer {
  switch (problem.code) {
    case 'KEY_NOT_FOUND':
      return { body: { error: 'Key not found' } };
    case 'KEY_DEPLETED': {
      const usage = problem.usage_info as UsageInfoDto;
      return {
        status: 403,
        body: { error: `Key has reached its usage limit (${usage.usage_count}/${usage.max_uses} uses)` },
      };
    }
    case 'KEY_EXPIRED':
      return { status: 403, body: { error: 'Key has expired' } };
    default:
      return { body: { error: fieldMessages(problem) ?? problem.detail } };
  }
}

/** What is wrong with the input, the first fault of each field (`key must be a string`), when the problem says. */
function fieldMessages(problem: ProblemDetails): string | undefined {
  const messages = (problem.errors ?? []).flatMap((field) => field.messages.slice(0, 1));
  return messages.length > 0 ? messages.join('; ') : undefined;
}
