import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { estimatedEntropyBits, secretWeakness } from './secret-strength.js';

describe('secretWeakness', () => {
  it('accepts 32 random bytes as base64, base64url or hex', () => {
    for (let i = 0; i < 200; i++) {
      const bytes = randomBytes(32);
      expect(secretWeakness(bytes.toString('base64'))).toBeNull();
      expect(secretWeakness(bytes.toString('base64url'))).toBeNull();
      expect(secretWeakness(bytes.toString('hex'))).toBeNull();
    }
  });

  it('refuses fewer than 32 characters, whatever their entropy', () => {
    expect(secretWeakness(randomBytes(23).toString('base64url').slice(0, 31))).toMatch(/at least 32 random characters/);
  });

  it('refuses one repeated character', () => {
    expect(secretWeakness('k'.repeat(40))).toMatch(/one character repeated/);
  });

  it('refuses a short pattern repeated, also when the last repetition is cut short', () => {
    const unit = randomBytes(12).toString('base64url'); // 16 random characters
    expect(secretWeakness(unit.repeat(3))).toMatch(/a 16-character pattern repeated/);
    expect(secretWeakness(`${unit}${unit}${unit.slice(0, 5)}`)).toMatch(/a 16-character pattern repeated/);
    expect(secretWeakness('secret'.repeat(7))).toMatch(/a 6-character pattern repeated/);
  });

  it('refuses fewer than 128 bits estimated from the character frequencies', () => {
    expect(secretWeakness(`${'a'.repeat(40)}b`)).toMatch(/about \d+ bits of entropy, at least 128 needed/);
    // 32 hex characters hold exactly 128 bits; their frequencies cannot show it.
    expect(secretWeakness(randomBytes(16).toString('hex'))).toMatch(/bits of entropy/);
    expect(secretWeakness('passwordpasswordpassword12345678')).toMatch(/bits of entropy/);
  });

  it('never quotes the secret in its answer', () => {
    for (const secret of ['q'.repeat(40), 'Secret!'.repeat(6), `${'z'.repeat(40)}y`, 'short-one']) {
      expect(secretWeakness(secret)).not.toContain(secret.slice(0, 6));
    }
  });

  it('checks only the length without the entropy rules (outside production)', () => {
    expect(secretWeakness('k'.repeat(40), { entropy: false })).toBeNull();
    expect(secretWeakness('k'.repeat(31), { entropy: false })).toMatch(/at least 32/);
  });
});

describe('estimatedEntropyBits', () => {
  it('is the empirical Shannon entropy times the length', () => {
    expect(estimatedEntropyBits('ab'.repeat(16))).toBe(32);
    expect(estimatedEntropyBits('abcd'.repeat(8))).toBe(64);
    expect(estimatedEntropyBits('x'.repeat(50))).toBe(0);
  });
});
