import { ArgumentMetadata, BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
import { inputBoundsOf, inputProblem } from './input-limits.js';
import { FieldError } from './problem.js';

/**
 * Validation that first checks the shape of the input (body, query, path parameters) with the
 * DTO's bounds, in one linear pass, so class-transformer and class-validator only ever see
 * bounded input. Its characters were checked before the guards (`requestCharactersProblem`).
 */
class InputValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'custom') {
      const shape = inputBoundsOf(metadata.metatype);
      const problem = inputProblem(value, metadata.type, { shape, characters: false, name: metadata.data });
      if (problem) throw problem;
    }
    return super.transform(value, metadata);
  }
}

/** Global validation: unknown fields are rejected, never silently dropped or applied. */
export function createValidationPipe(): ValidationPipe {
  return new InputValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => {
      const fields = flatten(errors);
      return new BadRequestException({
        code: 'VALIDATION_FAILED',
        message: `Validation failed: ${fields.map((f) => f.field).join(', ')}`,
        errors: fields,
      });
    },
  });
}

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, messages: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}
