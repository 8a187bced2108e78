import { HttpStatus } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { FieldError, ProblemException } from './problem.js';

/**
 * Limits on the shape of every input (body, query string, path parameters), checked before
 * class-transformer and class-validator run, whose cost grows faster than the input: an
 * object with 90,000 keys took them 27 s. Two linear passes: a JSON body's raw bytes are
 * scanned before they are parsed (parsing alone builds a 90,000-key object in about 100 ms,
 * and nests a million levels), then the parsed input, of every kind, is walked with the
 * DTO's own bounds, which also refuses the characters no column can store.
 */

/** Keys one object may hold, unless the DTO declares more for a property (`@MaxKeys`). */
export const MAX_KEYS_PER_OBJECT = 256;
/** Objects and arrays nested in one another, the outermost counting as 1. */
export const MAX_DEPTH = 32;
/** Items one array may hold; a DTO's `@ArrayMaxSize` on a property bounds that property's array further. */
export const MAX_ARRAY_LENGTH = 1000;
/**
 * Keys and array items one input may hold in all, at every depth: enough for any body the
 * API takes (an import of 100 accounts holds about 1,300), few enough that building and
 * checking the DTO stays cheap. Each `@MaxKeys` map adds room for its entries, 16 each.
 */
export const MAX_TOTAL_ENTRIES = 4096;
const ENTRIES_PER_MAP_ENTRY = 16;
/** The validator name `@MaxKeys` registers, read back here. */
export const MAX_KEYS_VALIDATOR = 'maxKeys';

/** The most keys any DTO lets a map property hold (`@MaxKeys`); the raw scan allows one such map per body. */
let largestMap = MAX_KEYS_PER_OBJECT;

/** Called by `@MaxKeys`: a DTO declares a map property that may hold `max` keys. */
export function declareMapProperty(max: number): void {
  largestMap = Math.max(largestMap, max);
}

export type InputSource = 'body' | 'query' | 'param';

/** The bounds one DTO sets on its own properties (an import map, a list of ids). */
interface PropertyBounds {
  maxKeys?: number;
  maxItems?: number;
}

/** The bounds of one DTO's input: its properties' own, and the entries it may hold in all. */
export interface InputBounds {
  properties: ReadonlyMap<string, PropertyBounds>;
  maxEntries: number;
}

const DEFAULT_BOUNDS: InputBounds = { properties: new Map(), maxEntries: MAX_TOTAL_ENTRIES };
const UNBOUNDED: InputBounds = { properties: new Map(), maxEntries: Infinity };
const boundsCache = new WeakMap<object, InputBounds>();

/** `@ArrayMaxSize(n)` and `@MaxKeys(n)` of a DTO's properties, from class-validator's own metadata. */
export function inputBoundsOf(metatype: unknown): InputBounds {
  if (typeof metatype !== 'function') return DEFAULT_BOUNDS;
  const cached = boundsCache.get(metatype);
  if (cached) return cached;
  const properties = new Map<string, PropertyBounds>();
  let maxEntries = MAX_TOTAL_ENTRIES;
  for (const meta of getMetadataStorage().getTargetValidationMetadatas(metatype, '', true, false)) {
    const limit = meta.constraints?.[0];
    if (typeof limit !== 'number' || meta.each) continue;
    const own = properties.get(meta.propertyName) ?? {};
    if (meta.name === 'arrayMaxSize') {
      own.maxItems = Math.min(limit, own.maxItems ?? limit);
    } else if (meta.name === MAX_KEYS_VALIDATOR) {
      own.maxKeys = limit;
      maxEntries += limit * ENTRIES_PER_MAP_ENTRY;
    } else {
      continue;
    }
    properties.set(meta.propertyName, own);
  }
  const bounds = { properties, maxEntries };
  boundsCache.set(metatype, bounds);
  return bounds;
}

interface Frame {
  value: unknown;
  depth: number;
  parent: Frame | undefined;
  key: string | number | undefined;
}

/** What `inputProblem` checks. */
export interface InputChecks {
  /** The bounds of the shape (the DTO's), or false to check characters only. */
  shape?: InputBounds | false;
  /** Whether strings and field names are checked for NUL characters and unpaired surrogates. */
  characters?: boolean;
  /** The parameter's own name (`@Param('id')`), when it has one. */
  name?: string;
}

/**
 * The first thing wrong with the shape or characters of an input, as a 400 problem, or
 * undefined. Iterative (no recursion, so no depth overflows the stack) and linear: every
 * value and key is looked at once, and an oversized object or array is refused before its
 * contents are.
 */
export function inputProblem(
  input: unknown,
  source: InputSource,
  { shape = DEFAULT_BOUNDS, characters = true, name }: InputChecks = {},
): ProblemException | undefined {
  const root: Frame = { value: input, depth: 0, parent: undefined, key: name };
  if (typeof input === 'string') {
    return !characters || storableText(input) ? undefined : invalidCharacters(source, root);
  }
  if (typeof input !== 'object' || input === null) return undefined;
  const bounds = shape || UNBOUNDED;
  const stack: Frame[] = [root];
  let entries = 0;
  const tooMany = (): ProblemException =>
    tooComplex(
      source,
      [],
      `holds more than ${bounds.maxEntries} keys and items in all`,
      'total_entries',
      bounds.maxEntries,
    );
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const value = frame.value as object;
    const depth = frame.depth + 1;
    if (shape && depth > MAX_DEPTH) {
      return tooComplex(
        source,
        pathOf(frame),
        `nests objects and arrays deeper than ${MAX_DEPTH} levels`,
        'depth',
        MAX_DEPTH,
      );
    }
    // A DTO's own bounds apply to its top-level properties.
    const own =
      frame.parent !== undefined && frame.parent.parent === undefined
        ? bounds.properties.get(String(frame.key))
        : undefined;
    if (Array.isArray(value)) {
      const max = own?.maxItems ?? (shape ? MAX_ARRAY_LENGTH : Infinity);
      if (value.length > max) {
        return tooComplex(source, pathOf(frame), `holds more than ${max} items`, 'array_items', max);
      }
      if ((entries += value.length) > bounds.maxEntries) return tooMany();
      for (let index = value.length - 1; index >= 0; index--) {
        const problem = visit(value[index], index, frame, depth, stack, source, characters);
        if (problem) return problem;
      }
      continue;
    }
    const keys = Object.keys(value);
    const max = own?.maxKeys ?? (shape ? MAX_KEYS_PER_OBJECT : Infinity);
    if (keys.length > max) {
      return tooComplex(source, pathOf(frame), `holds more than ${max} keys`, 'object_keys', max);
    }
    if ((entries += keys.length) > bounds.maxEntries) return tooMany();
    for (let index = keys.length - 1; index >= 0; index--) {
      const key = keys[index];
      if (characters && !storableText(key)) {
        return invalidCharacters(source, childFrame(undefined, key, frame, depth), true);
      }
      const problem = visit((value as Record<string, unknown>)[key], key, frame, depth, stack, source, characters);
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
  characters: boolean,
): ProblemException | undefined {
  if (typeof value === 'string') {
    return !characters || storableText(value)
      ? undefined
      : invalidCharacters(source, childFrame(value, key, parent, depth));
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

const OBJECT = 0;
const ARRAY = 1;

/**
 * The first thing wrong with the shape of a JSON body, read from its raw bytes before it is
 * parsed, or undefined: nesting deeper than MAX_DEPTH, an array of more than MAX_ARRAY_LENGTH
 * items, an object of more than MAX_KEYS_PER_OBJECT keys (one map directly under the top
 * level may hold as many as the largest `@MaxKeys` declares), far more than MAX_TOTAL_ENTRIES
 * keys and items in all (more with such a map). The DTO's own bounds are checked after
 * parsing. Counts commas, so it is exact for valid JSON; invalid JSON is left to the parser.
 */
export function jsonShapeProblem(text: Uint8Array): ProblemException | undefined {
  const kinds = new Uint8Array(MAX_DEPTH + 1);
  /** Commas so far in the container at each depth: the index of its current entry. */
  const commas = new Uint32Array(MAX_DEPTH + 1);
  /** Where the current key of the object at each depth starts and ends, for the problem's field. */
  const keyStarts = new Uint32Array(MAX_DEPTH + 1);
  const keyEnds = new Uint32Array(MAX_DEPTH + 1);
  let depth = 0;
  let inString = false;
  let inKey = false;
  let expectingKey = false;
  let mapSeen = false;
  /** Commas and containers: about the keys and items in all (an empty container counts one too). */
  let entries = 0;
  const budget = (): number => MAX_TOTAL_ENTRIES + (mapSeen ? largestMap * ENTRIES_PER_MAP_ENTRY : 0);
  // Twice the budget the DTO walk applies, as this count runs a little high; enough to bound parsing.
  const tooMany = (): ProblemException =>
    tooComplex('body', [], `holds more than ${budget()} keys and items in all`, 'total_entries', budget());
  const fieldAt = (levels: number): Array<string | number> => {
    const parts: Array<string | number> = [];
    for (let level = 1; level <= levels; level++) {
      parts.push(kinds[level] === ARRAY ? commas[level] : jsonKey(text, keyStarts[level], keyEnds[level]));
    }
    return parts;
  };
  for (let i = 0; i < text.length; i++) {
    const byte = text[i];
    if (inString) {
      // A backslash escapes the next character, so an escaped quote does not end the string.
      if (byte === 0x5c) {
        i++;
      } else if (byte === 0x22) {
        inString = false;
        if (inKey) keyEnds[depth] = i + 1;
        inKey = false;
      }
    } else if (byte === 0x22) {
      inString = true;
      if (expectingKey) {
        inKey = true;
        expectingKey = false;
        keyStarts[depth] = i;
      }
    } else if (byte === 0x7b || byte === 0x5b) {
      if (depth === MAX_DEPTH) {
        return tooComplex(
          'body',
          fieldAt(depth),
          `nests objects and arrays deeper than ${MAX_DEPTH} levels`,
          'depth',
          MAX_DEPTH,
        );
      }
      if (++entries > 2 * budget()) return tooMany();
      depth++;
      kinds[depth] = byte === 0x7b ? OBJECT : ARRAY;
      commas[depth] = 0;
      expectingKey = byte === 0x7b;
    } else if (byte === 0x7d || byte === 0x5d) {
      if (depth > 0) depth--;
      expectingKey = false;
    } else if (byte === 0x2c && depth > 0) {
      if (++entries > 2 * budget()) return tooMany();
      const count = ++commas[depth] + 1;
      if (kinds[depth] === ARRAY) {
        if (count > MAX_ARRAY_LENGTH) {
          return tooComplex(
            'body',
            fieldAt(depth - 1),
            `holds more than ${MAX_ARRAY_LENGTH} items`,
            'array_items',
            MAX_ARRAY_LENGTH,
          );
        }
      } else {
        expectingKey = true;
        if (count > MAX_KEYS_PER_OBJECT) {
          // One map directly under the top level may be larger; the DTO's bound is checked after parsing.
          const map = depth === 2 && (count > MAX_KEYS_PER_OBJECT + 1 || !mapSeen);
          if (map && count === MAX_KEYS_PER_OBJECT + 1) mapSeen = true;
          const max = map ? largestMap : MAX_KEYS_PER_OBJECT;
          if (!map || count > max) {
            return tooComplex('body', fieldAt(depth - 1), `holds more than ${max} keys`, 'object_keys', max);
          }
        }
      }
    }
  }
  return undefined;
}

/** A key of the raw JSON, as the field of a problem. */
function jsonKey(text: Uint8Array, start: number, end: number): string {
  try {
    return String(JSON.parse(Buffer.from(text.buffer, text.byteOffset + start, end - start).toString()));
  } catch {
    return '?';
  }
}

/** Text Postgres can store and UTF-8 can carry: no NUL character, no unpaired UTF-16 surrogate. */
export function storableText(text: string): boolean {
  return !text.includes('\u0000') && (text as string & { isWellFormed(): boolean }).isWellFormed();
}

function tooComplex(
  source: InputSource,
  path: Array<string | number>,
  what: string,
  limit: 'depth' | 'object_keys' | 'array_items' | 'total_entries',
  max: number,
): ProblemException {
  const field = fieldName(path);
  const message = `${field || `the ${SOURCE_NAMES[source]}`} ${what}`;
  return new ProblemException(
    HttpStatus.BAD_REQUEST,
    'BODY_TOO_COMPLEX',
    `The ${SOURCE_NAMES[source]} is too complex: ${message} (limit: ${limit.replace('_', ' ')} ${max}).`,
    { limit: { name: limit, max }, errors: [{ field: field || source, messages: [message] }] satisfies FieldError[] },
  );
}

function invalidCharacters(source: InputSource, frame: Frame, inName = false): ProblemException {
  const field = fieldName(pathOf(frame)) || source;
  const message = `${inName ? `the name of ${field}` : field} must not contain NUL characters or unpaired UTF-16 surrogates`;
  return new ProblemException(
    HttpStatus.BAD_REQUEST,
    'INVALID_CHARACTERS',
    `In the ${SOURCE_NAMES[source]}, ${message}.`,
    { errors: [{ field, messages: [message] }] satisfies FieldError[] },
  );
}

const SOURCE_NAMES: Record<InputSource, string> = { body: 'body', query: 'query string', param: 'path parameter' };

/** The keys and indexes leading to a value. */
function pathOf(frame: Frame): Array<string | number> {
  const parts: Array<string | number> = [];
  for (let at: Frame | undefined = frame; at?.key !== undefined; at = at.parent) parts.push(at.key);
  return parts.reverse();
}

/** `keys.name.0`, as validation errors name fields; names are cut short and made printable. */
function fieldName(path: Array<string | number>): string {
  return path.map((part) => printable(String(part))).join('.');
}

function printable(key: string): string {
  const short = key.length > 40 ? `${key.slice(0, 40)}…` : key;
  return storableText(short) ? short : JSON.stringify(short).slice(1, -1);
}

/**
 * The characters of everything a request carries, checked before the guards (some read the
 * body or the query: a login's rate limit looks its name up) and so before any code sees it.
 * Its shape is bounded already for JSON bodies (the raw scan) and query strings (the URL's
 * length), and is checked with the DTO's bounds before validation.
 */
export function requestCharactersProblem(request: {
  params?: unknown;
  query?: unknown;
  body?: unknown;
}): ProblemException | undefined {
  const charactersOnly: InputChecks = { shape: false };
  return (
    inputProblem(request.params, 'param', charactersOnly) ??
    inputProblem(request.query, 'query', charactersOnly) ??
    inputProblem(request.body, 'body', charactersOnly)
  );
}
