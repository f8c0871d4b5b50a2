import { describe, expect, it } from 'vitest';
import { nameLengthError, validatePost } from './limits';

describe('nameLengthError', () => {
  it('takes 1 to 64 code points, as the node does', () => {
    expect(nameLengthError('a')).toBeNull();
    expect(nameLengthError('😀'.repeat(64))).toBeNull();
    expect(nameLengthError('')).toBe('A name has 1 to 64 characters.');
    expect(nameLengthError('x'.repeat(65))).toBe('A name has 1 to 64 characters.');
  });
});

describe('validatePost', () => {
  it.each([
    ['title', { title: 'x'.repeat(201), body: '' }, 'The title is 1 character too long.'],
    ['title', { title: 'x'.repeat(203), body: '' }, 'The title is 3 characters too long.'],
    ['body', { title: 't', body: '😀'.repeat(20_001) }, 'The text is 1 character too long.'],
    ['body', { title: 't', body: 'x'.repeat(21_500) }, 'The text is 1,500 characters too long.'],
  ] as const)('says how much the %s is over, in words that agree with the number', (field, draft, want) => {
    expect(validatePost(draft)[field]).toBe(want);
  });
});
