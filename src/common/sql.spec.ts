import { describe, expect, it } from 'vitest';
import { containsPattern } from './sql.js';

describe('containsPattern', () => {
  it('wraps the text and escapes LIKE wildcards and the escape character', () => {
    expect(containsPattern('ab')).toBe('%ab%');
    expect(containsPattern('50%_off\\')).toBe('%50\\%\\_off\\\\%');
  });
});
