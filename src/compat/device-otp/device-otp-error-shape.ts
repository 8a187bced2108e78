import { HttpStatus } from '@nestjs/common';
import type { CompatErrorShape } from '../compat-error-shapes.js';
import { problemMessage } from '../problem-message.js';

/**
 * The device OTP service's texts and statuses for the refusals it had: a missing or another
 * client's device and a repeated registration were a 400 with these words. Every other refusal
 * keeps the service's status (401, 423 with Retry-After, 429, 503) and its detail.
 */
const AS_THE_SYSTEM_SAID: Record<string, { status?: number; message: string }> = {
  DEVICE_NOT_FOUND: { status: HttpStatus.BAD_REQUEST, message: 'Device not found' },
  DEVICE_EXISTS: { status: HttpStatus.BAD_REQUEST, message: 'Device already registered' },
  INVALID_API_KEY: { message: 'Invalid API key' },
  AUTHENTICATION_REQUIRED: { message: 'Not authenticated' },
};

/**
 * `{success: false, message, data: null, detail}`: the system's answer envelope, with `detail`
 * as its framework wrote errors (`{"detail": "Device not found"}`), so a client reading either works.
 */
export const deviceOtpErrorShape: CompatErrorShape = (problem) => {
  const known = AS_THE_SYSTEM_SAID[problem.code];
  const message = known?.message ?? problemMessage(problem);
  return { status: known?.status, body: { success: false, message, data: null, detail: message } };
};
