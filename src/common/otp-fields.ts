import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { MAX_DIGITS, MAX_PERIOD, MIN_DIGITS, MIN_PERIOD, OTP_ALGORITHMS } from '#src/otp/otp-engine.js';

/** The optional OTP parameters every secret-holding input takes, stated (and documented) once. */

export const OtpAlgorithmField = (): PropertyDecorator =>
  applyDecorators(ApiPropertyOptional({ enum: OTP_ALGORITHMS, default: 'sha1' }), IsOptional(), IsIn(OTP_ALGORITHMS));

export const OtpDigitsField = (): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({ minimum: MIN_DIGITS, maximum: MAX_DIGITS, default: 6 }),
    IsOptional(),
    IsInt(),
    Min(MIN_DIGITS),
    Max(MAX_DIGITS),
  );

export const OtpPeriodField = (description: string): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({ minimum: MIN_PERIOD, maximum: MAX_PERIOD, default: 30, description }),
    IsOptional(),
    IsInt(),
    Min(MIN_PERIOD),
    Max(MAX_PERIOD),
  );
