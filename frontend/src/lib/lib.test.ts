import { describe, expect, it } from 'vitest';
import { initials } from './avatar';
import { backoffDelay } from './backoff';
import { codePoints, count, firstControlChar } from './text';
import { relativeTime } from './time';

describe('relativeTime', () => {
  const now = Date.parse('2026-11-22T12:00:00.000Z');
  const ago = (ms: number) => new Date(now - ms).toISOString();
  it.each([
    [ago(5_000), 'now'],
    [ago(-3_000), 'now'], // a clock slightly ahead
    [ago(3 * 60_000), '3 min. ago'],
    [ago(59 * 60_000), '59 min. ago'],
    [ago(2 * 3600_000 + 60_000), '2 hr. ago'],
    [ago(30 * 3600_000), 'yesterday'],
    [ago(4 * 86400_000), '4 days ago'],
  ])('%s is %s', (iso, want) => {
    expect(relativeTime(iso, now)).toBe(want);
  });
  it('gives a date after a week, with the year when it differs', () => {
    expect(relativeTime('2026-11-01T12:00:00.000Z', now)).toMatch(/^Nov 1$/);
    expect(relativeTime('2025-03-03T12:00:00.000Z', now)).toMatch(/^Mar 3, 2025$/);
  });
});

describe('codePoints', () => {
  it('counts what the node counts', () => {
    expect(codePoints('abc')).toBe(3);
    expect(codePoints('😀')).toBe(1);
    expect(codePoints('é')).toBe(1);
    expect(codePoints('e\u0301')).toBe(2); // combining mark: two code points
    expect(codePoints('')).toBe(0);
  });
});

describe('firstControlChar', () => {
  it('allows newline and tab only', () => {
    expect(firstControlChar('a\nb\tc')).toBeNull();
    expect(firstControlChar('a\u0007b')).toBe('\u0007');
    expect(firstControlChar('a\rb')).toBe('\r');
    expect(firstControlChar('\u0085')).toBe('\u0085');
  });
});

describe('backoffDelay', () => {
  it('doubles up to the cap, with half of each step random', () => {
    const lo = (n: number) => backoffDelay(n, { random: () => 0 });
    const hi = (n: number) => backoffDelay(n, { random: () => 0.999999 });
    expect([0, 1, 2, 3].map(lo)).toEqual([250, 500, 1000, 2000]);
    expect([0, 1, 2, 3].map(hi)).toEqual([500, 1000, 2000, 4000]);
    expect(hi(50)).toBe(30_000);
    expect(lo(50)).toBe(15_000);
  });
});

describe('initials', () => {
  it('takes the first letters of up to two words', () => {
    expect(initials('Mia Chen')).toBe('MC');
    expect(initials('jonas')).toBe('J');
    expect(initials('phone-of-sam')).toBe('PO');
    expect(initials('')).toBe('?');
  });
  it('skips punctuation and symbols', () => {
    expect(initials('Léa (phone)')).toBe('LP');
    expect(initials('  <script>  ')).toBe('S');
    expect(initials('🚀')).toBe('?');
  });
});

describe('count', () => {
  it.each([
    [0, '0 characters'],
    [1, '1 character'],
    [2, '2 characters'],
    [1500, '1,500 characters'],
  ])('%d is "%s"', (n, want) => {
    expect(count(n, 'character')).toBe(want);
  });
  it('takes an irregular plural', () => {
    expect(count(1, 'reply', 'replies')).toBe('1 reply');
    expect(count(3, 'reply', 'replies')).toBe('3 replies');
  });
});
