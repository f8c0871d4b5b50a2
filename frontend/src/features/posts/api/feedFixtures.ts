// Test fixtures of the feed store's tests: posts whose order is their number.
import type { Post, PostsEnvelope } from '../../../transport/types';

/** post n: created n seconds after a base time, so the feed order is by n, newest first. */
export function post(n: number, over: Partial<Post> = {}): Post {
  const at = new Date(Date.UTC(2026, 10, 22, 9) + n * 1000).toISOString();
  return {
    id: `0190a000-0000-7000-8000-${String(n).padStart(12, '0')}`,
    title: `title ${n}`,
    body: '',
    author: 'alice',
    origin: 'o',
    createdAt: at,
    updatedAt: at,
    version: 1,
    deleted: false,
    seq: n,
    ...over,
  };
}

/** ev is the posts event of change seq to p. */
export const ev = (seq: number, p: Post, action: 'create' | 'update' | 'delete' = 'create'): PostsEnvelope => ({
  type: 'event',
  event: 'posts',
  seq,
  data: { action, post: { ...p, seq } },
});
