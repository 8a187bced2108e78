import { applyDecorators, HttpStatus, ParseUUIDPipe } from '@nestjs/common';
import { declareMapProperty, MAX_KEYS_VALIDATOR } from './input-limits.js';
import { ProblemException } from './problem.js';
import {
  IsString,
  Matches,
  MaxDate,
  MaxLength,
  MinDate,
  MinLength,
  registerDecorator,
  ValidationOptions,
} from 'class-validator';
import { base32SecretProblem } from '#src/otp/base32.js';
import { PASSWORD_MAX_LENGTH, passwordPolicyViolations } from '#src/users/password-policy.js';

/** Reusable field validators, so every DTO states a rule the same way. */

/** Column ranges, for the bounds of integer fields: Postgres `integer` and `smallint`. */
export const INT4_MAX = 2_147_483_647;
export const INT2_MAX = 32_767;

/** Instants a `timestamptz` column stores and ISO 8601 writes in four digits: years 1 to 9999. */
export const EARLIEST_TIMESTAMP = new Date('0001-01-01T00:00:00.000Z');
export const LATEST_TIMESTAMP = new Date('9999-12-31T23:59:59.999Z');

/** With `@IsDate()`: the instant lies within years 1 to 9999. */
export const InTimestampRange = (): PropertyDecorator => {
  const message = (args: { property: string }): string => `${args.property} must lie within the years 1 to 9999`;
  return applyDecorators(MinDate(EARLIEST_TIMESTAMP, { message }), MaxDate(LATEST_TIMESTAMP, { message }));
};

export const USERNAME_PATTERN = /^[A-Za-z0-9._-]+$/;

export const IsUsername = (): PropertyDecorator =>
  applyDecorators(
    IsString(),
    MinLength(3),
    MaxLength(50),
    Matches(USERNAME_PATTERN, { message: 'username may contain letters, digits, dot, dash and underscore' }),
  );

/** The password policy: 12–128 characters with upper, lower, digit and special character. */
export function IsStrongPassword(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isStrongPassword',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && passwordPolicyViolations(value).length === 0,
        defaultMessage: (args) =>
          typeof args?.value === 'string'
            ? `${args.property} needs ${passwordPolicyViolations(args.value).join(', ')}`
            : `${args?.property} must be a string`,
      },
    });
  };
}

/** A password being presented (not chosen): bounded so hashing cost stays bounded. */
export const IsPresentedPassword = (): PropertyDecorator =>
  applyDecorators(IsString(), MinLength(1), MaxLength(PASSWORD_MAX_LENGTH));

/** An OTP code as typed: 6–8 digits, always a string. */
export const IsOtpCode = (options: ValidationOptions = {}): PropertyDecorator =>
  applyDecorators(
    IsString(options),
    Matches(/^\d{6,8}$/, {
      ...options,
      message: options.each ? 'each code must be 6 to 8 digits' : 'must be 6 to 8 digits',
    }),
  );

/** A base32 secret (case, spaces and padding forgiven) of at least 80 bits, as real services issue. */
export function IsBase32Secret(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isBase32Secret',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => base32SecretProblem(value) === null,
        defaultMessage: (args) => `${args?.property} ${base32SecretProblem(args?.value)}`,
      },
    });
  };
}

/** A field that only makes sense for one OTP type (a period on HOTP, a counter on TOTP) is an error elsewhere. */
export function OnlyWithOtpType(type: 'totp' | 'hotp', options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'onlyWithOtpType',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown, args) => {
          const otpType = (args?.object as { otp_type?: string }).otp_type ?? 'totp';
          return value === undefined || otpType === type;
        },
        defaultMessage: (args) => `${args?.property} applies to ${type.toUpperCase()} only`,
      },
    });
  };
}

/** `@Param('id', UuidParam)`: a malformed id is a 400 with the usual problem shape. */
export const UuidParam = new ParseUUIDPipe({
  exceptionFactory: () =>
    new ProblemException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'id must be a UUID', {
      errors: [{ field: 'id', messages: ['id must be a UUID'] }],
    }),
});

/**
 * An object used as a map, of at most `max` keys. Objects hold at most MAX_KEYS_PER_OBJECT keys
 * otherwise; the input limits read `max` from here before validation runs.
 */
export function MaxKeys(max: number, options?: ValidationOptions): PropertyDecorator {
  declareMapProperty(max);
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: MAX_KEYS_VALIDATOR,
      target: target.constructor,
      propertyName: propertyName as string,
      constraints: [max],
      options,
      validator: {
        validate: (value: unknown) => typeof value !== 'object' || value === null || Object.keys(value).length <= max,
        defaultMessage: (args) => `${args?.property} may hold at most ${max} keys`,
      },
    });
  };
}
