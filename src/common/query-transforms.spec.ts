import { plainToInstance } from 'class-transformer';
import { describe, expect, it } from 'vitest';
import { BooleanQuery } from './query-transforms.js';

class Query {
  @BooleanQuery()
  flag?: unknown;
}

describe('BooleanQuery', () => {
  it("reads 'true' and 'false' as booleans and leaves anything else for validation to refuse", () => {
    const read = (flag: unknown): unknown => plainToInstance(Query, { flag }).flag;
    expect([read('true'), read('false'), read('yes'), read('1'), read(undefined)]).toEqual([
      true,
      false,
      'yes',
      '1',
      undefined,
    ]);
  });
});
