import { describe, expect, it } from 'vitest';
import { nameLengthError } from './limits';

describe('nameLengthError', () => {
  it('takes 1 to 64 code points, as the node does', () => {
    expect(nameLengthError('a')).toBeNull();
    expect(nameLengthError('😀'.repeat(64))).toBeNull();
    expect(nameLengthError('')).toBe('A name has 1 to 64 characters.');
    expect(nameLengthError('x'.repeat(65))).toBe('A name has 1 to 64 characters.');
  });
});
