import { HttpStatus } from '@nestjs/common';
import type { CompatErrorShape } from '../compat-error-shapes.js';
import { problemMessage } from '../problem-message.js';

/**
 * The TOTP registration service's texts and statuses for the refusals it had (a username
 * registered twice was a 400). Every other refusal keeps the service's status (401, 404,
 * 423 with Retry-After, 429, 503).
 */
const AS_THE_SYSTEM_SAID: Record<string, { status?: number; detail: string }> = {
  DEVICE_NOT_FOUND: { detail: 'User not found' },
  DEVICE_EXISTS: { status: HttpStatus.BAD_REQUEST, detail: 'User already registered' },
  DEVICE_LOCKED: { detail: 'Too many failed verifications: locked for a while' },
  INVALID_API_KEY: { detail: 'Invalid API key' },
};

/** `{detail}`, as the system's framework (FastAPI) wrote every error. */
export const totpAuthErrorShape: CompatErrorShape = (problem) => {
  const known = AS_THE_SYSTEM_SAID[problem.code];
  return { status: known?.status, body: { detail: known?.detail ?? problemMessage(problem) } };
};
