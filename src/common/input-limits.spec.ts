import { describe, expect, it } from 'vitest';
import { ArrayMaxSize, IsArray, IsObject } from 'class-validator';
import {
  inputProblem,
  jsonShapeProblem,
  MAX_ARRAY_LENGTH,
  MAX_DEPTH,
  MAX_KEYS_PER_OBJECT,
  inputBoundsOf,
  MAX_TOTAL_ENTRIES,
  storableText,
} from './input-limits.js';
import { MaxKeys } from './validators.js';

class MapDto {
  @IsObject()
  @MaxKeys(1000)
  entries: Record<string, unknown>;

  @IsArray()
  @ArrayMaxSize(3)
  ids: string[];
}

const keys = (count: number): Record<string, number> =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, i]));

const nested = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};

const codeOf = (problem: ReturnType<typeof inputProblem>): string | undefined => problem?.code;

describe('inputProblem', () => {
  it('accepts ordinary input, non-ASCII text and surrogate pairs included', () => {
    expect(inputProblem({ name: 'Zoë 🚀', tags: ['a', 'b'], inner: { n: 1, ok: true, none: null } }, 'body')).toBe(
      undefined,
    );
    expect(inputProblem(undefined, 'body')).toBe(undefined);
    expect(inputProblem('plain', 'param', { name: 'id' })).toBe(undefined);
  });

  it(`refuses an object of more than ${MAX_KEYS_PER_OBJECT} keys, naming the limit`, () => {
    expect(inputProblem(keys(MAX_KEYS_PER_OBJECT), 'body')).toBe(undefined);
    const problem = inputProblem(keys(MAX_KEYS_PER_OBJECT + 1), 'body');
    expect(problem?.code).toBe('BODY_TOO_COMPLEX');
    expect(problem?.extensions.limit).toEqual({ name: 'object_keys', max: MAX_KEYS_PER_OBJECT });
    expect(problem?.message).toContain(`${MAX_KEYS_PER_OBJECT}`);
    expect(codeOf(inputProblem({ a: { b: keys(MAX_KEYS_PER_OBJECT + 1) } }, 'body'))).toBe('BODY_TOO_COMPLEX');
  });

  it(`refuses nesting deeper than ${MAX_DEPTH} levels, also 100,000 deep, without recursing`, () => {
    expect(inputProblem(nested(MAX_DEPTH), 'body')).toBe(undefined);
    expect(inputProblem(nested(MAX_DEPTH + 1), 'body')?.extensions.limit).toEqual({ name: 'depth', max: MAX_DEPTH });
    expect(codeOf(inputProblem(nested(100_000), 'body'))).toBe('BODY_TOO_COMPLEX');
  });

  it(`refuses an array of more than ${MAX_ARRAY_LENGTH} items anywhere`, () => {
    expect(inputProblem({ a: [Array(MAX_ARRAY_LENGTH).fill(0)] }, 'body')).toBe(undefined);
    const problem = inputProblem({ a: [Array(MAX_ARRAY_LENGTH + 1).fill(0)] }, 'body');
    expect(problem?.extensions).toMatchObject({
      limit: { name: 'array_items', max: MAX_ARRAY_LENGTH },
      errors: [{ field: 'a.0' }],
    });
  });

  it("applies a DTO's @MaxKeys and @ArrayMaxSize to its own properties only", () => {
    const bounds = inputBoundsOf(MapDto);
    expect(inputProblem({ entries: keys(1000), ids: ['a', 'b', 'c'] }, 'body', { shape: bounds })).toBe(undefined);
    expect(inputProblem({ entries: keys(1001) }, 'body', { shape: bounds })?.extensions.limit).toEqual({
      name: 'object_keys',
      max: 1000,
    });
    expect(inputProblem({ ids: ['a', 'b', 'c', 'd'] }, 'body', { shape: bounds })?.extensions.limit).toEqual({
      name: 'array_items',
      max: 3,
    });
    // Objects inside the map keep the default limit.
    expect(codeOf(inputProblem({ entries: { one: keys(MAX_KEYS_PER_OBJECT + 1) } }, 'body', { shape: bounds }))).toBe(
      'BODY_TOO_COMPLEX',
    );
  });

  it(`refuses more than ${MAX_TOTAL_ENTRIES} keys and items in all, more with a @MaxKeys map`, () => {
    const wide = (objects: number) => ({ a: Array.from({ length: objects }, () => keys(64)) });
    expect(inputProblem(wide(60), 'body')).toBe(undefined);
    expect(inputProblem(wide(64), 'body')?.extensions.limit).toEqual({
      name: 'total_entries',
      max: MAX_TOTAL_ENTRIES,
    });
    const bounds = inputBoundsOf(MapDto);
    expect(bounds.maxEntries).toBe(MAX_TOTAL_ENTRIES + 1000 * 16);
    expect(
      inputProblem({ entries: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [i, keys(10)])) }, 'body', {
        shape: bounds,
      }),
    ).toBe(undefined);
  });

  it('checks only characters, at any size, when asked to leave the shape to the DTO', () => {
    expect(inputProblem({ a: keys(10_000), b: Array(5000).fill('x') }, 'body', { shape: false })).toBe(undefined);
    expect(codeOf(inputProblem({ a: [keys(10), 'a\u0000'] }, 'body', { shape: false }))).toBe('INVALID_CHARACTERS');
    expect(inputProblem({ a: 'a\u0000', b: keys(300) }, 'body', { characters: false })?.code).toBe('BODY_TOO_COMPLEX');
    expect(inputProblem({ a: 'a\u0000' }, 'body', { characters: false })).toBe(undefined);
  });

  it('refuses NUL characters and unpaired surrogates in values and in field names, naming the field', () => {
    for (const bad of ['a\u0000b', 'a\ud800b', '\udc00', 'x\ud83d']) {
      const problem = inputProblem({ user: { name: bad } }, 'body');
      expect(problem?.code).toBe('INVALID_CHARACTERS');
      expect(problem?.extensions.errors).toEqual([{ field: 'user.name', messages: [expect.any(String)] }]);
    }
    expect(codeOf(inputProblem({ ['a\u0000']: 1 }, 'body'))).toBe('INVALID_CHARACTERS');
    expect(codeOf(inputProblem(['ok', ['a\u0000']], 'body'))).toBe('INVALID_CHARACTERS');
    const param = inputProblem('a\u0000', 'param', { name: 'id' });
    expect(param?.extensions.errors).toEqual([{ field: 'id', messages: [expect.any(String)] }]);
    expect(param?.message).toContain('path parameter');
  });

  it('takes time linear in the input: 100,000 strings are checked in well under a second', () => {
    const wide = Array.from({ length: 100 }, () => Array.from({ length: 1000 }, (_, i) => `value ${i}`));
    const bounds = { properties: new Map(), maxEntries: 200_000 };
    const started = performance.now();
    expect(inputProblem({ rows: wide }, 'body', { shape: bounds })).toBe(undefined);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('storableText', () => {
  it('tells NUL characters and unpaired surrogates from any other text', () => {
    expect(storableText('plain ASCII, tabs\tand newlines\n')).toBe(true);
    expect(storableText('Zoë, 東京, 🚀')).toBe(true);
    expect(storableText('\u0000')).toBe(false);
    expect(storableText('\ud800')).toBe(false);
    expect(storableText('\udfff')).toBe(false);
  });
});

describe('jsonShapeProblem', () => {
  const scan = (text: string) => jsonShapeProblem(Buffer.from(text));
  const limitOf = (text: string) => scan(text)?.extensions.limit;
  const fieldOf = (text: string) => (scan(text)?.extensions.errors as Array<{ field: string }> | undefined)?.[0].field;

  it('accepts JSON within the limits, brackets and commas inside strings not counted', () => {
    expect(scan('{"a":[1,2,{"b":"x"}],"c":null}')).toBe(undefined);
    expect(scan(`{"a":"${'[{,'.repeat(5000)}"}`)).toBe(undefined);
    expect(scan(`{"a":"\\"${'[['.repeat(100)}"}`)).toBe(undefined);
    expect(scan('['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH))).toBe(undefined);
    expect(scan(JSON.stringify(keys(MAX_KEYS_PER_OBJECT)))).toBe(undefined);
    expect(scan(JSON.stringify(Array(MAX_ARRAY_LENGTH).fill(0)))).toBe(undefined);
  });

  it(`refuses nesting past ${MAX_DEPTH} levels, also 100,000 deep, naming where`, () => {
    expect(limitOf('['.repeat(MAX_DEPTH + 1) + ']'.repeat(MAX_DEPTH + 1))).toEqual({ name: 'depth', max: MAX_DEPTH });
    expect(limitOf('['.repeat(100_000) + ']'.repeat(100_000))).toEqual({ name: 'depth', max: MAX_DEPTH });
    expect(fieldOf('{"a":'.repeat(40) + '1' + '}'.repeat(40))).toBe(Array(MAX_DEPTH).fill('a').join('.'));
  });

  it('refuses an oversized object or array before parsing, naming it', () => {
    expect(limitOf(JSON.stringify(keys(MAX_KEYS_PER_OBJECT + 1)))).toEqual({
      name: 'object_keys',
      max: MAX_KEYS_PER_OBJECT,
    });
    expect(fieldOf(JSON.stringify({ a: [1, { b: keys(MAX_KEYS_PER_OBJECT + 1) }] }))).toBe('a.1.b');
    expect(limitOf(JSON.stringify({ a: Array(MAX_ARRAY_LENGTH + 1).fill(0) }))).toEqual({
      name: 'array_items',
      max: MAX_ARRAY_LENGTH,
    });
    expect(fieldOf(JSON.stringify({ 'we"ird': Array(MAX_ARRAY_LENGTH + 1).fill(0) }))).toBe('we"ird');
  });

  it(`refuses far more than ${MAX_TOTAL_ENTRIES} keys and items in all, more beside a large map`, () => {
    const wide = (objects: number) => JSON.stringify({ a: Array.from({ length: objects }, () => keys(200)) });
    expect(scan(wide(40))).toBe(undefined);
    expect(limitOf(wide(41))).toEqual({ name: 'total_entries', max: MAX_TOTAL_ENTRIES });
    const withMap = JSON.stringify({ entries: keys(1000), a: Array.from({ length: 41 }, () => keys(200)) });
    expect(scan(withMap)).toBe(undefined);
  });

  it('lets one map directly under the top level hold as many keys as the largest @MaxKeys', () => {
    // MapDto above declares a map of 1000 keys.
    expect(scan(JSON.stringify({ entries: keys(1000) }))).toBe(undefined);
    expect(limitOf(JSON.stringify({ entries: keys(1001) }))).toEqual({ name: 'object_keys', max: 1000 });
    expect(limitOf(JSON.stringify({ a: keys(300), b: keys(300) }))).toEqual({
      name: 'object_keys',
      max: MAX_KEYS_PER_OBJECT,
    });
    expect(fieldOf(JSON.stringify({ a: keys(300), b: keys(300) }))).toBe('b');
    expect(limitOf(JSON.stringify({ a: { b: keys(300) } }))).toEqual({ name: 'object_keys', max: MAX_KEYS_PER_OBJECT });
  });

  it('scans 1 MB in well under 50 ms, stopping at the first key past the limit', () => {
    const within = Buffer.from(JSON.stringify(Array.from({ length: 1000 }, () => 'x, [{"'.repeat(170))));
    const adversarial = Buffer.from(JSON.stringify(keys(90_000)));
    expect(within.length).toBeGreaterThan(1_000_000);
    jsonShapeProblem(within);
    let started = performance.now();
    expect(jsonShapeProblem(within)).toBe(undefined);
    expect(performance.now() - started).toBeLessThan(50);
    started = performance.now();
    expect(jsonShapeProblem(adversarial)?.code).toBe('BODY_TOO_COMPLEX');
    expect(performance.now() - started).toBeLessThan(50);
  });
});
