import { applyDecorators, HttpStatus, ParseUUIDPipe } from '@nestjs/common';
import { ProblemException } from './problem.js';
import { IsString, Matches, MaxLength, MinLength, registerDecorator, ValidationOptions } from 'class-validator';
import { PASSWORD_MAX_LENGTH, passwordPolicyViolations } from '#src/users/password-policy.js';

/** Reusable field validators, so every DTO states a rule the same way. */

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
export const IsOtpCode = (): PropertyDecorator =>
  applyDecorators(IsString(), Matches(/^\d{6,8}$/, { message: 'must be 6 to 8 digits' }));

/** `@Param('id', UuidParam)`: a malformed id is a 400 with the usual problem shape. */
export const UuidParam = new ParseUUIDPipe({
  exceptionFactory: () =>
    new ProblemException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'id must be a UUID', {
      errors: [{ field: 'id', messages: ['id must be a UUID'] }],
    }),
});
