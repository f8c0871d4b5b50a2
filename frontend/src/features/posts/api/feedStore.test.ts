import { describe, expect, it } from 'vitest';
import type { Page, Post, PostsEnvelope } from '../../../transport/types';
import { FeedStore, comparePosts } from './feedStore';

// post builds a post; ids are UUIDv7-like strings that sort as given.
function post(n: number, over: Partial<Post> = {}): Post {
  const id = `0190a000-0000-7000-8000-${String(n).padStart(12, '0')}`;
  return {
    id,
    title: `title ${n}`,
    body: `body ${n}`,
    author: 'alice',
    origin: '0190a000-0000-7000-8000-00000000a0de',
    createdAt: `2026-11-22T09:${String(n).padStart(2, '0')}:00.000Z`,
    updatedAt: `2026-11-22T09:${String(n).padStart(2, '0')}:00.000Z`,
    version: 1,
    deleted: false,
    seq: n,
    ...over,
  };
}

function ev(seq: number, p: Post, action: 'create' | 'update' | 'delete' = 'create'): PostsEnvelope {
  return { type: 'event', event: 'posts', seq, data: { action, post: { ...p, seq } } };
}

function page(posts: Post[], seq: number, next = ''): Page {
  return { posts, next, prev: '', seq };
}

const titles = (s: FeedStore) => s.getSnapshot().posts.map((p) => p.title);

function loaded(posts: Post[], seq: number, next = ''): FeedStore {
  const s = new FeedStore();
  s.load(page(posts, seq, next), 'E1');
  return s;
}

describe('FeedStore ordering', () => {
  it('sorts newest first', () => {
    const s = loaded([post(1), post(3), post(2)], 3);
    expect(titles(s)).toEqual(['title 3', 'title 2', 'title 1']);
  });

  it('breaks equal dates by id, larger id first', () => {
    const at = '2026-11-22T09:30:00.250Z';
    const a = post(1, { createdAt: at, title: 'a' });
    const b = post(2, { createdAt: at, title: 'b' });
    const c = post(3, { createdAt: at, title: 'c' });
    const s = loaded([a, c], 3);
    s.applyEvent(ev(4, b));
    expect(titles(s)).toEqual(['c', 'b', 'a']);
    expect(comparePosts(a, a)).toBe(0);
  });

  it('inserts a new post at its place, not just at the top', () => {
    const s = loaded([post(10), post(5)], 10);
    s.applyEvent(ev(11, post(7)));
    expect(titles(s)).toEqual(['title 10', 'title 7', 'title 5']);
  });
});

describe('FeedStore events', () => {
  it('ignores a seq it already applied', () => {
    const s = loaded([post(1)], 1);
    expect(s.applyEvent(ev(2, post(2)))).toBe('applied');
    const before = s.getSnapshot();
    expect(s.applyEvent(ev(2, post(2)))).toBe('duplicate');
    expect(s.applyEvent(ev(1, post(1)))).toBe('duplicate');
    expect(s.getSnapshot()).toBe(before);
    expect(s.getSnapshot().posts).toHaveLength(2);
  });

  it('updates a post in place', () => {
    const s = loaded([post(3), post(2), post(1)], 3);
    const r = s.applyEvent(ev(4, { ...post(2), title: 'edited', version: 2 }, 'update'));
    expect(r).toBe('applied');
    expect(titles(s)).toEqual(['title 3', 'edited', 'title 1']);
    expect(s.get(post(2).id)?.version).toBe(2);
  });

  it('ignores a stale version', () => {
    const s = loaded([post(1, { title: 'v3', version: 3 })], 5);
    expect(s.merge({ ...post(1), title: 'v2', version: 2 })).toBe('stale');
    expect(s.applyEvent(ev(6, { ...post(1), title: 'v3 again', version: 3 }, 'update'))).toBe('stale');
    expect(titles(s)).toEqual(['v3']);
    // the stale event's seq still counts: the next one is not a gap
    expect(s.applyEvent(ev(7, post(7)))).toBe('applied');
  });

  it('removes a deleted post and never brings it back', () => {
    const s = loaded([post(2), post(1)], 2);
    const tomb = { ...post(1), title: '', body: '', deleted: true, version: 2 };
    expect(s.applyEvent(ev(3, tomb, 'delete'))).toBe('applied');
    expect(titles(s)).toEqual(['title 2']);
    expect(s.get(post(1).id)).toBeUndefined();
    // a late copy of the old version (a replay, an older page) stays out
    expect(s.merge(post(1))).toBe('stale');
    expect(titles(s)).toEqual(['title 2']);
  });

  it('reports a gap and waits for a resync', () => {
    const s = loaded([post(1)], 1);
    expect(s.applyEvent(ev(3, post(3)))).toBe('gap');
    expect(s.getSnapshot().needsResync).toBe(true);
    expect(titles(s)).toEqual(['title 1']);
    // later events are not applied over the hole either
    expect(s.applyEvent(ev(4, post(4)))).toBe('gap');
    expect(s.getSnapshot().seq).toBe(1);

    s.beginSync();
    s.applyEvent(ev(2, post(2)));
    s.applyEvent(ev(3, post(3)));
    s.applyEvent(ev(4, post(4)));
    s.synced(4);
    expect(s.getSnapshot().needsResync).toBe(false);
    expect(s.getSnapshot().seq).toBe(4);
    expect(titles(s)).toEqual(['title 4', 'title 3', 'title 2', 'title 1']);
    expect(s.applyEvent(ev(5, post(5)))).toBe('applied');
  });

  it('reset clears everything', () => {
    const s = loaded([post(2), post(1)], 2, 'cursor');
    s.beginSync();
    s.reset('E2');
    const snap = s.getSnapshot();
    expect(snap.posts).toEqual([]);
    expect(snap.seq).toBe(0);
    expect(snap.epoch).toBe('E2');
    expect(snap.hasMore).toBe(false);
    // the replay from 0 that follows rebuilds the feed, tombstones included
    s.applyEvent(ev(1, post(9)));
    s.applyEvent(ev(2, { ...post(8), deleted: true, version: 2 }, 'delete'));
    s.synced(2);
    expect(titles(s)).toEqual(['title 9']);
    expect(s.getSnapshot().seq).toBe(2);
  });
});

describe('FeedStore initial load', () => {
  it('buffers events until the first page, then applies only the newer ones', () => {
    const s = new FeedStore();
    expect(s.applyEvent(ev(4, post(4)))).toBe('buffered');
    expect(s.applyEvent(ev(6, { ...post(4), title: 'edited', version: 2 }, 'update'))).toBe('buffered');
    expect(s.getSnapshot().loaded).toBe(false);
    // the page was read at seq 5: it already has post 4 and post 5
    s.load(page([post(5), post(4)], 5), 'E1');
    expect(titles(s)).toEqual(['title 5', 'edited']);
    expect(s.getSnapshot().seq).toBe(6);
    expect(s.getSnapshot().epoch).toBe('E1');
  });
});

describe('FeedStore sync replay', () => {
  it('applies replayed latest states whose seqs have holes, then continues live', () => {
    const s = loaded([post(1)], 1);
    s.beginSync();
    s.applyEvent(ev(5, { ...post(1), title: 'edited twice', version: 3 }, 'update'));
    s.applyEvent(ev(7, post(7)));
    expect(s.getSnapshot().seq).toBe(1);
    s.synced(7);
    expect(s.getSnapshot().seq).toBe(7);
    expect(titles(s)).toEqual(['title 7', 'edited twice']);
    expect(s.applyEvent(ev(8, post(8)))).toBe('applied');
  });

  it('counts live events that raced the replay (desktop)', () => {
    const s = loaded([], 3);
    s.beginSync();
    s.applyEvent(ev(4, post(4))); // replay
    s.applyEvent(ev(5, post(5))); // live, delivered while the replay page was in flight
    s.synced(4);
    expect(s.getSnapshot().seq).toBe(5);
    expect(s.applyEvent(ev(5, post(5)))).toBe('duplicate');
    expect(s.applyEvent(ev(6, post(6)))).toBe('applied');
  });
});

describe('FeedStore own writes', () => {
  it('counts an ack that arrives before an earlier event', () => {
    const s = loaded([], 10);
    expect(s.applyOwn(post(12, { seq: 12 }), 12)).toBe('applied');
    expect(s.getSnapshot().seq).toBe(10);
    expect(s.applyEvent(ev(11, post(11)))).toBe('applied');
    expect(s.getSnapshot().seq).toBe(12);
    // the node may also send the own write as an event: ignored
    expect(s.applyEvent(ev(12, post(12)))).toBe('duplicate');
    expect(s.applyEvent(ev(13, post(13)))).toBe('applied');
    expect(titles(s)).toEqual(['title 13', 'title 12', 'title 11']);
  });

  it('an ack then the event for the same change applies once', () => {
    const s = loaded([], 1);
    s.applyOwn(post(2), 2);
    expect(s.getSnapshot().seq).toBe(2);
    expect(s.applyEvent(ev(2, post(2)))).toBe('duplicate');
  });
});

describe('FeedStore pagination', () => {
  it('appends older pages and keeps changes to posts it has not reached', () => {
    const s = loaded([post(20), post(19)], 30, 'c1');
    expect(s.getSnapshot().hasMore).toBe(true);
    // an edit of an older post, not loaded yet: kept aside, not shown
    expect(s.applyEvent(ev(31, { ...post(5), title: 'old but edited', version: 2 }, 'update'))).toBe('outside');
    expect(titles(s)).toEqual(['title 20', 'title 19']);
    // the page was read before the edit
    s.appendPage(page([post(18), post(5)], 30, ''));
    expect(titles(s)).toEqual(['title 20', 'title 19', 'title 18', 'old but edited']);
    expect(s.getSnapshot().hasMore).toBe(false);
    expect(s.nextCursor).toBe('');
  });
});
