import { HttpStatus, Injectable, PipeTransform } from '@nestjs/common';
import { ProblemException } from '#src/common/problem.js';
import { INT4_MAX } from '#src/common/validators.js';

/** Most ids one bulk request may name, as the service's own bulk route. */
export const MAX_BULK_IDS = 100;

const invalid = (field: string, message: string): ProblemException =>
  new ProblemException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', message, {
    errors: [{ field, messages: [message] }],
  });

const isIntegerId = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= INT4_MAX;

/** A path's integer id (`/otp/configs/7`): a positive 32-bit integer, else a validation failure. */
@Injectable()
export class IntegerIdParam implements PipeTransform<string, number> {
  transform(value: string): number {
    const number = /^\d{1,10}$/.test(value) ? Number(value) : NaN;
    if (!isIntegerId(number)) throw invalid('config_id', 'config_id must be a positive integer');
    return number;
  }
}

/** A body that is a bare JSON list of 1–100 distinct integer ids (`[1, 2, 3]`). */
@Injectable()
export class IntegerIdListBody implements PipeTransform<unknown, number[]> {
  transform(value: unknown): number[] {
    if (!Array.isArray(value) || value.length === 0 || value.length > MAX_BULK_IDS) {
      throw invalid('body', `the body must be a list of 1 to ${MAX_BULK_IDS} configuration ids`);
    }
    const bad = value.findIndex((item) => !isIntegerId(item));
    if (bad >= 0) throw invalid(String(bad), 'each id must be a positive integer');
    if (new Set(value).size !== value.length) throw invalid('body', 'the ids must be distinct');
    return value as number[];
  }
}
