/** `%text%` for ILIKE, with the pattern characters in the text taken literally. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * One statement's parameters, numbered as they are added: `add` appends a value and answers
 * its placeholder, so a statement assembled from several parts (a change and its audit
 * record) cannot get a number wrong. Pass `values` as the statement's parameters.
 */
export class SqlParams {
  readonly values: unknown[] = [];

  /** The placeholder of `value` (`$n`, with `cast` appended, e.g. `::jsonb`). */
  add(value: unknown, cast = ''): string {
    this.values.push(value);
    return `$${this.values.length}${cast}`;
  }
}
