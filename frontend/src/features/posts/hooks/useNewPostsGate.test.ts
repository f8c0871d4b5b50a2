import { describe, expect, it } from 'vitest';
import type { Post } from '../../../transport';
import { splitAtFrontier } from './useNewPostsGate';

const p = (n: number): Post => ({
  id: `id-${String(n).padStart(3, '0')}`,
  title: `t${n}`,
  body: '',
  author: 'a',
  origin: '0190a000-0000-7000-8000-00000000a0de',
  createdAt: `2026-11-22T09:${String(n).padStart(2, '0')}:00.000Z`,
  updatedAt: `2026-11-22T09:${String(n).padStart(2, '0')}:00.000Z`,
  version: 1,
  deleted: false,
  seq: n,
});

describe('splitAtFrontier', () => {
  it('holds back posts newer than the frontier', () => {
    const posts = [p(9), p(8), p(5), p(4)];
    const { visible, held } = splitAtFrontier(posts, p(5));
    expect(visible.map((x) => x.title)).toEqual(['t5', 't4']);
    expect(held).toBe(2);
  });
  it('shows everything without a frontier', () => {
    const posts = [p(2), p(1)];
    expect(splitAtFrontier(posts, null)).toEqual({ visible: posts, held: 0 });
  });
  it('still works when the frontier post was deleted', () => {
    const { visible, held } = splitAtFrontier([p(9), p(4)], p(5));
    expect(visible.map((x) => x.title)).toEqual(['t4']);
    expect(held).toBe(1);
  });
});
