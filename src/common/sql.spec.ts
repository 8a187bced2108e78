import { describe, expect, it } from 'vitest';
import { containsPattern, SqlParams } from './sql.js';

describe('containsPattern', () => {
  it('wraps the text and escapes LIKE wildcards and the escape character', () => {
    expect(containsPattern('ab')).toBe('%ab%');
    expect(containsPattern('50%_off\\')).toBe('%50\\%\\_off\\\\%');
  });
});

describe('SqlParams', () => {
  it('numbers each added value after the ones before it, so every placeholder names its own value', () => {
    const p = new SqlParams();
    const sql = `UPDATE t SET a = ${p.add('x')} WHERE id = ${p.add(7)} AND d = ${p.add('{}', '::jsonb')}`;
    expect(sql).toBe('UPDATE t SET a = $1 WHERE id = $2 AND d = $3::jsonb');
    expect(p.values).toEqual(['x', 7, '{}']);
  });
});
