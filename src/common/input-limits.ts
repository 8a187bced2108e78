import { HttpStatus } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { FieldError, ProblemException } from './problem.js';

/**
 * Limits on the shape of every input (body, query string, path parameters), checked before
 * class-transformer and class-validator run, whose cost grows faster than the input: an
 * object with 90,000 keys took them 27 s. The check is one iterative pass, linear in the size
 * of the input, and also refuses the characters no column can store.
 */

/** Keys one object may hold, unless the DTO declares more for a property (`@MaxKeys`). */
export const MAX_KEYS_PER_OBJECT = 256;
/** Objects and arrays nested in one another, the outermost counting as 1. */
export const MAX_DEPTH = 32;
/** Items one array may hold; a DTO's `@ArrayMaxSize` on a property bounds that property's array further. */
export const MAX_ARRAY_LENGTH = 1000;
/** The validator name `@MaxKeys` registers, read back here. */
export const MAX_KEYS_VALIDATOR = 'maxKeys';

export type InputSource = 'body' | 'query' | 'param';

/** The bounds one DTO sets on its own properties (an import map, a list of ids). */
interface PropertyBounds {
  maxKeys?: number;
  maxItems?: number;
}

const boundsCache = new WeakMap<object, ReadonlyMap<string, PropertyBounds>>();

/** `@ArrayMaxSize(n)` and `@MaxKeys(n)` of a DTO's properties, from class-validator's own metadata. */
export function propertyBoundsOf(metatype: unknown): ReadonlyMap<string, PropertyBounds> {
  if (typeof metatype !== 'function') return new Map();
  const cached = boundsCache.get(metatype);
  if (cached) return cached;
  const bounds = new Map<string, PropertyBounds>();
  for (const meta of getMetadataStorage().getTargetValidationMetadatas(metatype, '', true, false)) {
    const limit = meta.constraints?.[0];
    if (typeof limit !== 'number' || meta.each) continue;
    const own = bounds.get(meta.propertyName) ?? {};
    if (meta.name === 'arrayMaxSize') own.maxItems = Math.min(limit, own.maxItems ?? limit);
    else if (meta.name === MAX_KEYS_VALIDATOR) own.maxKeys = limit;
    else continue;
    bounds.set(meta.propertyName, own);
  }
  boundsCache.set(metatype, bounds);
  return bounds;
}

interface Frame {
  value: unknown;
  depth: number;
  parent: Frame | undefined;
  key: string | number | undefined;
}

/**
 * The first thing wrong with the shape or characters of an input, as a 400 problem, or
 * undefined. Iterative (no recursion, so no depth overflows the stack) and linear: every
 * value and key is looked at once, and an oversized object or array is refused before its
 * contents are. `name` is the parameter's own name (`@Param('id')`), when it has one.
 */
export function inputProblem(
  input: unknown,
  source: InputSource,
  bounds: ReadonlyMap<string, PropertyBounds> = new Map(),
  name?: string,
): ProblemException | undefined {
  const root: Frame = { value: input, depth: 0, parent: undefined, key: name };
  if (typeof input === 'string') return storableText(input) ? undefined : invalidCharacters(source, root);
  if (typeof input !== 'object' || input === null) return undefined;
  const stack: Frame[] = [root];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const value = frame.value as object;
    const depth = frame.depth + 1;
    if (depth > MAX_DEPTH) {
      return tooComplex(source, frame, `nests objects and arrays deeper than ${MAX_DEPTH} levels`, 'depth', MAX_DEPTH);
    }
    // A DTO's own bounds apply to its top-level properties.
    const own =
      frame.parent !== undefined && frame.parent.parent === undefined ? bounds.get(String(frame.key)) : undefined;
    if (Array.isArray(value)) {
      const max = own?.maxItems ?? MAX_ARRAY_LENGTH;
      if (value.length > max) return tooComplex(source, frame, `holds more than ${max} items`, 'array_items', max);
      for (let index = value.length - 1; index >= 0; index--) {
        const problem = visit(value[index], index, frame, depth, stack, source);
        if (problem) return problem;
      }
      continue;
    }
    const keys = Object.keys(value);
    const max = own?.maxKeys ?? MAX_KEYS_PER_OBJECT;
    if (keys.length > max) return tooComplex(source, frame, `holds more than ${max} keys`, 'object_keys', max);
    for (let index = keys.length - 1; index >= 0; index--) {
      const key = keys[index];
      if (!storableText(key)) return invalidCharacters(source, childFrame(undefined, key, frame, depth), true);
      const problem = visit((value as Record<string, unknown>)[key], key, frame, depth, stack, source);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** Strings are checked at once, objects and arrays queued; other values need nothing. */
function visit(
  value: unknown,
  key: string | number,
  parent: Frame,
  depth: number,
  stack: Frame[],
  source: InputSource,
): ProblemException | undefined {
  if (typeof value === 'string') {
    return storableText(value) ? undefined : invalidCharacters(source, childFrame(value, key, parent, depth));
  }
  if (typeof value === 'object' && value !== null) stack.push(childFrame(value, key, parent, depth));
  return undefined;
}

const childFrame = (value: unknown, key: string | number, parent: Frame, depth: number): Frame => ({
  value,
  depth,
  parent,
  key,
});

/**
 * Whether a JSON text nests arrays and objects deeper than `maxDepth`, read from the raw bytes
 * before parsing (parsing a 1 MB body of `[[[[…` alone costs hundreds of milliseconds).
 */
export function jsonNestsDeeperThan(text: Uint8Array, maxDepth: number = MAX_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const byte = text[i];
    if (inString) {
      // A backslash escapes the next character, so an escaped quote does not end the string.
      if (byte === 0x5c) {
        i++;
      } else if (byte === 0x22) {
        inString = false;
      }
    } else if (byte === 0x22) {
      inString = true;
    } else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (byte === 0x5d || byte === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** The 400 a JSON body nested too deeply gets, before it is parsed. */
export function tooDeepJsonProblem(): ProblemException {
  return new ProblemException(
    HttpStatus.BAD_REQUEST,
    'BODY_TOO_COMPLEX',
    `The body nests objects and arrays deeper than ${MAX_DEPTH} levels (limit: depth ${MAX_DEPTH}).`,
    { limit: { name: 'depth', max: MAX_DEPTH } },
  );
}

/** Text Postgres can store and UTF-8 can carry: no NUL character, no unpaired UTF-16 surrogate. */
export function storableText(text: string): boolean {
  return !text.includes('\u0000') && (text as string & { isWellFormed(): boolean }).isWellFormed();
}

function tooComplex(
  source: InputSource,
  frame: Frame,
  what: string,
  limit: 'depth' | 'object_keys' | 'array_items',
  max: number,
): ProblemException {
  const field = fieldOf(frame);
  const message = `${field || `the ${SOURCE_NAMES[source]}`} ${what}`;
  return new ProblemException(
    HttpStatus.BAD_REQUEST,
    'BODY_TOO_COMPLEX',
    `The ${SOURCE_NAMES[source]} is too complex: ${message} (limit: ${limit.replace('_', ' ')} ${max}).`,
    { limit: { name: limit, max }, errors: [{ field: field || source, messages: [message] }] satisfies FieldError[] },
  );
}

function invalidCharacters(source: InputSource, frame: Frame, inName = false): ProblemException {
  const field = fieldOf(frame) || source;
  const message = `${inName ? `the name of ${field}` : field} must not contain NUL characters or unpaired UTF-16 surrogates`;
  return new ProblemException(
    HttpStatus.BAD_REQUEST,
    'INVALID_CHARACTERS',
    `In the ${SOURCE_NAMES[source]}, ${message}.`,
    { errors: [{ field, messages: [message] }] satisfies FieldError[] },
  );
}

const SOURCE_NAMES: Record<InputSource, string> = { body: 'body', query: 'query string', param: 'path parameter' };

/** `keys.name.0`, as validation errors name fields; names are cut short and made printable. */
function fieldOf(frame: Frame): string {
  const parts: string[] = [];
  for (let at: Frame | undefined = frame; at?.key !== undefined; at = at.parent) {
    parts.push(printable(String(at.key)));
  }
  return parts.reverse().join('.');
}

function printable(key: string): string {
  const short = key.length > 40 ? `${key.slice(0, 40)}…` : key;
  return storableText(short) ? short : JSON.stringify(short).slice(1, -1);
}
