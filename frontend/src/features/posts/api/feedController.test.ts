import { describe, expect, it, vi } from 'vitest';
import type { Hello, LiveListener, Page, Post, PostsEnvelope, Transport } from '../../../transport/types';
import { FeedController } from './feedController';

function post(n: number, over: Partial<Post> = {}): Post {
  return {
    id: `0190a000-0000-7000-8000-${String(n).padStart(12, '0')}`,
    title: `title ${n}`,
    body: '',
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

const ev = (seq: number, p: Post): PostsEnvelope => ({
  type: 'event',
  event: 'posts',
  seq,
  data: { action: 'create', post: { ...p, seq } },
});

const hello: Hello = { epoch: 'E1', seq: 5, node: { id: 'n', name: 'node' }, canWrite: true };

// fakeTransport records calls; the test drives the listener by hand.
function fakeTransport(pages: Page[]) {
  const calls: string[] = [];
  let listener: LiveListener | null = null;
  const pending: Array<(p: Page) => void> = [];
  const t: Transport = {
    kind: 'web',
    listPosts: vi.fn((before: string) => {
      calls.push(`list(${before})`);
      const p = pages.shift();
      return p ? Promise.resolve(p) : new Promise<Page>((r) => pending.push(r));
    }),
    listNewer: vi.fn((after: string) => {
      calls.push(`newer(${after})`);
      const p = pages.shift();
      return p ? Promise.resolve(p) : new Promise<Page>((r) => pending.push(r));
    }),
    getPost: vi.fn(),
    createPost: vi.fn(),
    updatePost: vi.fn(),
    deletePost: vi.fn(),
    info: vi.fn(),
    peers: vi.fn(),
    follows: vi.fn(),
    follow: vi.fn(),
    unfollow: vi.fn(),
    nearby: vi.fn(),
    settings: vi.fn(),
    setSettings: vi.fn(),
    connect: (l) => {
      calls.push('connect');
      listener = l;
      return () => (listener = null);
    },
    sync: (since, epoch) => calls.push(`sync(${since},${epoch})`),
    resync: () => calls.push('resync'),
    token: () => Promise.resolve(''),
    name: () => Promise.resolve('me'),
    setName: (n) => Promise.resolve(n),
  };
  return {
    t,
    calls,
    get listener(): LiveListener {
      if (!listener) throw new Error('not connected');
      return listener;
    },
    resolveList: (p: Page) => pending.shift()?.(p),
  };
}

function wire(c: FeedController, l: { listener: LiveListener }, t: Transport) {
  t.connect({
    open: (h) => c.onOpen(h),
    posts: (e) => c.onPosts(e),
    peers: () => {},
    reset: (e) => c.onReset(e),
    synced: (s) => c.onSynced(s),
    ack: (p, s) => c.onAck(p, s),
    status: () => {},
  });
  return l.listener;
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('FeedController', () => {
  it('subscribes, reads the first page, applies buffered events, then syncs from the page seq', async () => {
    const f = fakeTransport([]);
    const c = new FeedController(f.t);
    const l = wire(c, f, f.t);
    c.start();
    l.open(hello);
    l.posts(ev(4, post(4))); // older than the page: dropped
    l.posts(ev(6, post(6))); // newer: applied after load
    f.resolveList({ posts: [post(4), post(3)], next: '', prev: '', seq: 5 });
    await flush();
    expect(f.calls).toEqual(['connect', 'list()', 'sync(6,E1)']);
    expect(c.store.getSnapshot().posts.map((p) => p.title)).toEqual(['title 6', 'title 4', 'title 3']);
    expect(c.status.get().canWrite).toBe(true);
  });

  it('syncs once the hello comes if the page came first', async () => {
    const f = fakeTransport([{ posts: [], next: '', prev: '', seq: 9 }]);
    const c = new FeedController(f.t);
    const l = wire(c, f, f.t);
    c.start();
    await flush();
    expect(f.calls).toEqual(['connect', 'list()']);
    l.open(hello);
    expect(f.calls).toEqual(['connect', 'list()', 'sync(9,E1)']);
  });

  it('asks for one resync on a gap and syncs from the last applied seq on reopen', async () => {
    const f = fakeTransport([{ posts: [], next: '', prev: '', seq: 5 }]);
    const c = new FeedController(f.t);
    const l = wire(c, f, f.t);
    c.start();
    l.open(hello);
    await flush();
    l.synced(5);
    l.posts(ev(6, post(6)));
    l.posts(ev(8, post(8)));
    l.posts(ev(9, post(9)));
    expect(f.calls.filter((x) => x === 'resync')).toHaveLength(1);
    l.open({ ...hello, seq: 9 });
    expect(f.calls.at(-1)).toBe('sync(6,E1)');
  });

  it('drops everything on reset', async () => {
    const f = fakeTransport([{ posts: [post(1)], next: 'c', prev: '', seq: 1 }]);
    const c = new FeedController(f.t);
    const l = wire(c, f, f.t);
    c.start();
    l.open(hello);
    await flush();
    l.reset('E2');
    expect(c.store.getSnapshot().posts).toEqual([]);
    l.posts(ev(1, post(7)));
    l.synced(1);
    expect(c.store.getSnapshot().posts.map((p) => p.title)).toEqual(['title 7']);
    l.open({ ...hello, epoch: 'E2' });
    expect(f.calls.at(-1)).toBe('sync(1,E2)');
  });

  it('shows the current post of a conflict', async () => {
    const f = fakeTransport([{ posts: [post(1)], next: '', prev: '', seq: 1 }]);
    const current = { ...post(1), title: 'theirs', version: 2, seq: 2 };
    f.t.updatePost = vi.fn(() => Promise.reject({ code: 'conflict', message: 'changed', post: current }));
    const c = new FeedController(f.t);
    wire(c, f, f.t);
    c.start();
    await flush();
    await expect(c.update(post(1).id, { version: 1, title: 'mine' })).rejects.toMatchObject({ code: 'conflict' });
    expect(c.store.get(post(1).id)?.title).toBe('theirs');
  });

  it('loads older pages with the cursor', async () => {
    const f = fakeTransport([
      { posts: [post(9)], next: 'cur1', prev: '', seq: 9 },
      { posts: [post(2)], next: '', prev: '', seq: 9 },
    ]);
    const c = new FeedController(f.t);
    wire(c, f, f.t);
    c.start();
    await flush();
    await c.loadMore();
    expect(f.calls).toContain('list(cur1)');
    expect(c.store.getSnapshot().posts.map((p) => p.title)).toEqual(['title 9', 'title 2']);
    expect(c.store.getSnapshot().hasMore).toBe(false);
  });

  // trimmed starts a controller whose store holds posts 1000..1 read a page
  // at a time (cursors c<n>: the position of post n) and trims it for a
  // reader at post 100: the top is dropped.
  async function trimmed(pages: Page[] = []) {
    const at = (n: number) => post(0, { id: `id-${String(n).padStart(5, '0')}`, title: `p${n}`, createdAt: new Date(Date.UTC(2026, 10, 22) + n * 1000).toISOString() });
    const range = (from: number) => Array.from({ length: 50 }, (_, i) => at(from - i));
    const f = fakeTransport([{ posts: range(1000), next: 'c951', prev: '', seq: 9 }, ...pages]);
    const c = new FeedController(f.t);
    wire(c, f, f.t);
    c.start();
    await flush();
    for (let top = 950; top > 0; top -= 50) {
      c.store.appendPage({ posts: range(top), next: top > 50 ? `c${top - 49}` : '', prev: `c${top}`, seq: 9 });
    }
    const list = c.store.getSnapshot().posts;
    c.store.trim(list[900]!.id, list[905]!.id);
    return { f, c, at, range };
  }

  it('reads the dropped top back with the cursor, once at a time', async () => {
    const { f, c, range } = await trimmed();
    const cursor = c.store.prevCursor;
    expect(cursor).toMatch(/^c\d+$/);
    expect(c.store.getSnapshot().hasNewer).toBe(true);
    const top = Number(cursor.slice(1));
    const first = c.loadNewer();
    void c.loadNewer(); // one at a time: no second read
    expect(f.calls.filter((x) => x.startsWith('newer('))).toEqual([`newer(${cursor})`]);
    expect(c.status.get().loadingNewer).toBe(true);
    f.resolveList({ posts: range(top + 50), next: `c${top + 1}`, prev: `c${top + 50}`, seq: 9 });
    await first;
    expect(c.status.get().loadingNewer).toBe(false);
    expect(c.store.prevCursor).toBe(`c${top + 50}`);
    expect(c.store.getSnapshot().posts[0]!.title).toBe(`p${top + 50}`);
  });

  it('reports a failed newer read and can try again', async () => {
    const { f, c } = await trimmed();
    f.t.listNewer = vi.fn(() => Promise.reject({ code: 'offline', message: 'no node' }));
    await c.loadNewer();
    expect(c.status.get()).toMatchObject({ loadingNewer: false, newerError: { code: 'offline' } });
    expect(c.store.getSnapshot().hasNewer).toBe(true);
  });

  it('goes back to the head with the first page, keeping seq', async () => {
    const { f, c, range } = await trimmed();
    const seq = c.store.getSnapshot().seq;
    const back = c.loadHead();
    expect(f.calls.at(-1)).toBe('list()');
    f.resolveList({ posts: range(1000), next: 'c951', prev: '', seq: 12 });
    await back;
    const snap = c.store.getSnapshot();
    expect(snap.hasNewer).toBe(false);
    expect(snap.seq).toBe(seq);
    expect(snap.posts.map((p) => p.title)).toEqual(range(1000).map((p) => p.title));
    await c.loadHead(); // at the head: nothing to read
    expect(f.calls.filter((x) => x === 'list()')).toHaveLength(2);
  });
});
