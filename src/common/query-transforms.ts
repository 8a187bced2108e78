import { Transform } from 'class-transformer';

/**
 * A boolean query parameter: `true` and `false` become booleans; anything else is left as
 * given, so @IsBoolean refuses it with a 400 (never read as false).
 */
export const BooleanQuery = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value));
