import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ConnStatus, LiveListener, Post } from '../types';
import { memoryStorage } from './deps';
import { createWebTransport, type WebDeps } from './index';

// FakeSocket stands in for the browser's WebSocket; tests play the node.
class FakeSocket {
  static all: FakeSocket[] = [];
  sent: unknown[] = [];
  closed: number | null = null;
  onmessage: ((m: MessageEvent) => void) | null = null;
  onclose: ((e: CloseEvent) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(s: string) {
    this.sent.push(JSON.parse(s));
  }
  close(code: number) {
    this.closed = code;
  }
  // node side
  frame(f: unknown) {
    this.onmessage?.({ data: JSON.stringify(f) } as MessageEvent);
  }
  drop(code: number) {
    this.onclose?.({ code } as CloseEvent);
  }
  static last(): FakeSocket {
    const s = FakeSocket.all.at(-1);
    if (!s) throw new Error('no socket');
    return s;
  }
}

function deps(over: Partial<WebDeps> = {}): Partial<WebDeps> {
  return {
    location: { href: 'http://192.168.1.5:7700/', hash: '', pathname: '/', search: '' },
    history: { replaceState: vi.fn() },
    storage: memoryStorage({ 'lanfeed.name': 'bob' }),
    fetch: vi.fn(() => Promise.reject(new Error('no fetch in this test'))),
    WebSocket: FakeSocket as unknown as WebDeps['WebSocket'],
    online: () => true,
    addEventListener: () => {},
    removeEventListener: () => {},
    random: () => 0.5,
    ...over,
  };
}

function recorder() {
  const log: string[] = [];
  const statuses: ConnStatus[] = [];
  const acks: number[] = [];
  const l: LiveListener = {
    open: (h) => log.push(`open(${h.epoch},${h.canWrite})`),
    posts: (e) => log.push(`posts(${e.seq})`),
    peers: (e) => log.push(`peers(${e.data.action})`),
    reset: (ep) => log.push(`reset(${ep})`),
    synced: (s) => log.push(`synced(${s})`),
    ack: (_p, s) => acks.push(s),
    status: (s) => statuses.push(s),
  };
  return { l, log, statuses, acks };
}

const hello = (canWrite: boolean) => ({
  type: 'hello',
  proto: 1,
  node: { id: 'n1', name: 'desk' },
  epoch: 'E1',
  seq: 3,
  peer: { id: 'p1', name: 'bob', since: '2026-11-22T09:30:00.000Z' },
  canWrite,
});

const post: Post = {
  id: 'x',
  title: 't',
  body: '',
  author: 'bob',
  origin: '0190a000-0000-7000-8000-00000000a0de',
  createdAt: '2026-11-22T09:30:00.000Z',
  updatedAt: '2026-11-22T09:30:00.000Z',
  version: 1,
  deleted: false,
  seq: 4,
};

beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('web transport live stream', () => {
  it('connects with name and token, reports hello, sends sync', () => {
    const t = createWebTransport(deps({ storage: memoryStorage({ 'lanfeed.name': 'bob', 'lanfeed.token': 'tok' }) }));
    const r = recorder();
    t.connect(r.l);
    const s = FakeSocket.last();
    expect(s.url).toBe('ws://192.168.1.5:7700/ws?name=bob&token=tok');
    s.frame(hello(true));
    expect(r.log).toEqual(['open(E1,true)']);
    expect(r.statuses.at(-1)).toEqual({ state: 'live' });
    t.sync(3, 'E1');
    expect(s.sent).toEqual([{ type: 'sync', since: 3, epoch: 'E1' }]);
    s.frame({ type: 'event', event: 'posts', seq: 4, data: { action: 'create', post } });
    s.frame({ type: 'synced', seq: 4 });
    s.frame({ type: 'reset', epoch: 'E2' });
    expect(r.log).toEqual(['open(E1,true)', 'posts(4)', 'synced(4)', 'reset(E2)']);
  });

  it('reconnects with backoff and says hello again', () => {
    const t = createWebTransport(deps());
    const r = recorder();
    t.connect(r.l);
    FakeSocket.last().frame(hello(false));
    FakeSocket.last().drop(1001);
    expect(r.statuses.at(-1)?.state).toBe('reconnecting');
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.last().frame(hello(false));
    expect(r.log).toEqual(['open(E1,false)', 'open(E1,false)']);
  });

  it('shows offline after repeated failures and backs off further each time', () => {
    const t = createWebTransport(deps());
    const r = recorder();
    t.connect(r.l);
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = Date.now();
      FakeSocket.last().drop(1006);
      const at = r.statuses.at(-1)?.retryAt ?? 0;
      delays.push(at - before);
      vi.advanceTimersByTime(at - before);
    }
    expect(delays).toEqual([375, 750, 1500, 3000, 6000]);
    expect(r.statuses.at(-1)?.state).toBe('offline');
  });

  it('writes over the socket and reports the ack to the stream', async () => {
    const t = createWebTransport(deps());
    const r = recorder();
    t.connect(r.l);
    const s = FakeSocket.last();
    s.frame(hello(true));
    const p = t.createPost({ title: 't', body: '' });
    expect(s.sent).toEqual([{ type: 'emit', id: 1, event: 'posts.create', data: { title: 't', body: '' } }]);
    s.frame({ type: 'ack', id: 1, seq: 4, data: post });
    await expect(p).resolves.toEqual(post);
    expect(r.acks).toEqual([4]);
  });

  it('rejects a write with the error frame', async () => {
    const t = createWebTransport(deps());
    t.connect(recorder().l);
    const s = FakeSocket.last();
    s.frame(hello(true));
    const p = t.updatePost('x', { version: 1, title: '' });
    expect(s.sent[0]).toEqual({ type: 'emit', id: 1, event: 'posts.update', data: { id: 'x', version: 1, title: '' } });
    s.frame({ type: 'error', id: 1, code: 'invalid', field: 'title', message: 'title is required' });
    await expect(p).rejects.toEqual({ code: 'invalid', field: 'title', message: 'title is required' });
  });

  it('fails pending writes when the socket drops', async () => {
    const t = createWebTransport(deps());
    t.connect(recorder().l);
    FakeSocket.last().frame(hello(true));
    const p = t.deletePost('x', 2);
    FakeSocket.last().drop(1006);
    await expect(p).rejects.toMatchObject({ code: 'timeout' });
  });

  it('treats a token refused at the upgrade as rejected and goes on read-only', async () => {
    const storage = memoryStorage({ 'lanfeed.name': 'bob', 'lanfeed.token': 'wrong' });
    const fetch = vi.fn(() => Promise.resolve(new Response('{}', { status: 200 })));
    const t = createWebTransport(deps({ storage, fetch: fetch as unknown as typeof globalThis.fetch }));
    const r = recorder();
    t.connect(r.l);
    FakeSocket.last().drop(1006);
    vi.advanceTimersByTime(400);
    FakeSocket.last().drop(1006);
    await vi.waitFor(() => expect(storage.getItem('lanfeed.token')).toBeNull());
    expect(FakeSocket.last().url).toBe('ws://192.168.1.5:7700/ws?name=bob');
    FakeSocket.last().frame(hello(false));
    expect(r.statuses.at(-1)).toEqual({ state: 'live', tokenRejected: true });
  });

  it('drops the token and goes read-only when the node rotates it', () => {
    const storage = memoryStorage({ 'lanfeed.name': 'bob', 'lanfeed.token': 'old' });
    const t = createWebTransport(deps({ storage }));
    const r = recorder();
    t.connect(r.l);
    const first = FakeSocket.last();
    first.frame(hello(true));
    first.frame({ type: 'auth', canWrite: false, reason: 'the pairing token was changed' });
    expect(storage.getItem('lanfeed.token')).toBeNull();
    expect(FakeSocket.last()).not.toBe(first);
    expect(FakeSocket.last().url).toBe('ws://192.168.1.5:7700/ws?name=bob');
    FakeSocket.last().frame(hello(false));
    expect(r.log.at(-1)).toBe('open(E1,false)');
    expect(r.statuses.at(-1)).toEqual({ state: 'live', tokenRejected: true });
  });
});

describe('web transport REST', () => {
  it('maps error JSON and statuses', async () => {
    const fetch = vi.fn(() =>
      Promise.resolve(new Response(JSON.stringify({ code: 'unauthorized', message: 'token required' }), { status: 401 })),
    );
    const t = createWebTransport(deps({ fetch: fetch as unknown as typeof globalThis.fetch }));
    await expect(t.createPost({ title: 'a', body: '' })).rejects.toEqual({
      code: 'unauthorized',
      message: 'token required',
    });
    const fetch2 = vi.fn(() => Promise.resolve(new Response('<html>', { status: 413 })));
    const t2 = createWebTransport(deps({ fetch: fetch2 as unknown as typeof globalThis.fetch }));
    await expect(t2.getPost('x')).rejects.toMatchObject({ code: 'too_large' });
  });

  it('sends the bearer token on writes and reads pages relative to the page URL', async () => {
    const fetch = vi.fn((_u: URL, _i: RequestInit) =>
      Promise.resolve(new Response(JSON.stringify({ posts: null, next: '', seq: 7 }), { status: 200 })),
    );
    const t = createWebTransport(
      deps({
        location: { href: 'http://h:7700/feed/', hash: '', pathname: '/feed/', search: '' },
        storage: memoryStorage({ 'lanfeed.token': 'tok' }),
        fetch: fetch as unknown as typeof globalThis.fetch,
      }),
    );
    await expect(t.listPosts('c1', 50)).resolves.toEqual({ posts: [], next: '', seq: 7 });
    expect(String(fetch.mock.calls[0]![0])).toBe('http://h:7700/feed/api/posts?limit=50&before=c1');
    await t.createPost({ title: 'a', body: '' }).catch(() => {});
    const init = fetch.mock.calls[1]![1];
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer tok');
  });
});

describe('web transport: the mesh', () => {
  it('reads follows, nearby nodes and settings, and writes them with the token', async () => {
    const calls: Array<{ url: string; method: string; auth: string | null; body: unknown }> = [];
    const answers: Record<string, unknown> = {
      'GET /api/follows': { follows: null },
      'GET /api/nearby': { nearby: [{ node: 'k', name: 'Kiosk', url: 'http://10.0.0.9:7700/', urls: [], seen: '' }] },
      'PUT /api/settings': { autoFollow: true },
      'POST /api/follows': { node: 'b', name: 'Harbour' },
      'DELETE /api/follows/a%2Fb': { node: 'a/b' },
    };
    const fetch = vi.fn((u: URL, init: RequestInit) => {
      const h = init.headers as Record<string, string>;
      const body: unknown = init.body ? JSON.parse(init.body as string) : null;
      calls.push({ url: u.pathname, method: init.method ?? 'GET', auth: h.Authorization ?? null, body });
      const key = `${init.method} ${u.pathname}`;
      return Promise.resolve(new Response(JSON.stringify(answers[key]), { status: key in answers ? 200 : 404 }));
    }) as unknown as typeof globalThis.fetch;
    const t = createWebTransport(deps({ fetch, storage: memoryStorage({ 'lanfeed.name': 'bob', 'lanfeed.token': 'tok' }) }));
    expect(await t.follows()).toEqual([]);
    expect((await t.nearby())[0]?.name).toBe('Kiosk');
    expect(await t.setSettings({ autoFollow: true })).toEqual({ autoFollow: true });
    expect((await t.follow('10.0.0.7:7700')).name).toBe('Harbour');
    await t.unfollow('a/b');
    expect(calls.map((c) => `${c.method} ${c.url} ${c.auth ?? '-'}`)).toEqual([
      'GET /api/follows -',
      'GET /api/nearby -',
      'PUT /api/settings Bearer tok',
      'POST /api/follows Bearer tok',
      'DELETE /api/follows/a%2Fb Bearer tok',
    ]);
    expect(calls[3]!.body).toEqual({ url: '10.0.0.7:7700' });
  });
});
