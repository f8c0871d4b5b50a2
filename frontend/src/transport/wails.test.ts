import { describe, expect, it, vi } from 'vitest';
import type { LiveListener, Post, PostsEnvelope } from './types';
import { createWailsTransport, isDesktop, type SyncPage, type WailsNode, type WailsPosts } from './wails';

const post = (seq: number): Post => ({
  id: `id${seq}`,
  title: 't',
  body: '',
  author: 'desk',
  origin: '0190a000-0000-7000-8000-00000000a0de',
  createdAt: '2026-11-22T09:30:00.000Z',
  updatedAt: '2026-11-22T09:30:00.000Z',
  version: 1,
  deleted: false,
  seq,
});
const ev = (seq: number): PostsEnvelope => ({
  type: 'event',
  event: 'posts',
  seq,
  data: { action: 'create', post: post(seq) },
});

// fakeWindow builds window.go and window.runtime as Wails v2 injects them.
function fakeWindow(posts: Partial<WailsPosts> = {}, node: Partial<WailsNode> = {}) {
  const handlers = new Map<string, Set<(...d: unknown[]) => void>>();
  const w = {
    go: {
      app: {
        Posts: { ...posts } as WailsPosts,
        Node: {
          Info: () =>
            Promise.resolve({ proto: 1, version: '0.1.0', node: { id: 'n', name: 'desk' }, epoch: 'E1', seq: 7, peers: 0, urls: [] }),
          ...node,
        } as WailsNode,
      },
    },
    runtime: {
      EventsOn: vi.fn((name: string, cb: (...d: unknown[]) => void) => {
        const set = handlers.get(name) ?? new Set();
        set.add(cb);
        handlers.set(name, set);
        return () => set.delete(cb);
      }),
    },
  };
  const emit = (name: string, data: unknown) => handlers.get(name)?.forEach((cb) => cb(data));
  return { w: w as unknown as Window, emit, handlers };
}

function recorder() {
  const log: string[] = [];
  const l: LiveListener = {
    open: (h) => log.push(`open(${h.epoch},${h.seq},${h.canWrite})`),
    posts: (e) => log.push(`posts(${e.seq})`),
    peers: (e) => log.push(`peers(${e.data.action})`),
    reset: (ep) => log.push(`reset(${ep})`),
    synced: (s) => log.push(`synced(${s})`),
    ack: (_p, s) => log.push(`ack(${s})`),
    status: (s) => log.push(`status(${s.state})`),
  };
  return { l, log };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('wails transport', () => {
  it('is chosen only where the bindings exist', () => {
    expect(isDesktop(fakeWindow().w)).toBe(true);
    expect(isDesktop({} as Window)).toBe(false);
  });

  it('delivers events, objects or JSON text, and unsubscribes with the returned function', async () => {
    const f = fakeWindow();
    const t = createWailsTransport(f.w);
    const r = recorder();
    const stop = t.connect(r.l);
    await flush();
    f.emit('posts', ev(8));
    f.emit('posts', JSON.stringify(ev(9)));
    f.emit('peers', { type: 'event', event: 'peers', data: { action: 'join', peer: { id: 'p', name: 'x', since: '' }, count: 1 } });
    expect(r.log).toEqual(['status(connecting)', 'status(live)', 'open(E1,7,true)', 'posts(8)', 'posts(9)', 'peers(join)']);
    stop();
    expect(f.handlers.get('posts')?.size).toBe(0);
    expect(f.handlers.get('peers')?.size).toBe(0);
    expect(f.handlers.get('resync')?.size).toBe(0);
  });

  it('reopens on resync, so that events the app dropped (presence too) are reloaded', async () => {
    const f = fakeWindow();
    const t = createWailsTransport(f.w);
    const r = recorder();
    t.connect(r.l);
    await flush();
    r.log.length = 0;
    f.emit('resync', { type: 'resync' });
    await flush();
    expect(r.log).toEqual(['status(live)', 'open(E1,7,true)']);
  });

  it('pages through Sync with the last event seq and reports reset and synced', async () => {
    const pages: SyncPage[] = [
      { epoch: 'E2', reset: true, events: [ev(1), ev(2)], seq: 2, more: true },
      { epoch: 'E2', reset: false, events: [ev(5)], seq: 5, more: false },
    ];
    const Sync = vi.fn(() => Promise.resolve(pages.shift()!));
    const f = fakeWindow({ Sync });
    const t = createWailsTransport(f.w);
    const r = recorder();
    t.connect(r.l);
    await flush();
    r.log.length = 0;
    t.sync(7, 'E1');
    await flush();
    expect(Sync.mock.calls).toEqual([
      [7, 'E1'],
      [2, 'E2'],
    ]);
    expect(r.log).toEqual(['reset(E2)', 'posts(1)', 'posts(2)', 'posts(5)', 'synced(5)']);
  });

  it('reports writes as acks and rejects with the error object', async () => {
    const f = fakeWindow({
      Create: () => Promise.resolve(post(12)),
      Update: () => Promise.reject('{"code":"conflict","message":"version mismatch"}'),
      Delete: () => Promise.reject({ code: 'not_found', message: 'no such post' }),
    });
    const t = createWailsTransport(f.w);
    const r = recorder();
    t.connect(r.l);
    await expect(t.createPost({ title: 't', body: '' })).resolves.toEqual(post(12));
    expect(r.log).toContain('ack(12)');
    await expect(t.updatePost('x', { version: 1, title: 'a' })).rejects.toEqual({
      code: 'conflict',
      message: 'version mismatch',
    });
    await expect(t.deletePost('x', 1)).rejects.toEqual({ code: 'not_found', message: 'no such post' });
  });
});

describe('Wails transport: the mesh', () => {
  it('calls the Node bindings and rejects with the ApiError the app sent', async () => {
    const { w } = fakeWindow(
      {},
      {
        Follows: () => Promise.resolve(null as unknown as []),
        Nearby: () => Promise.resolve([]),
        Settings: () => Promise.resolve({ autoFollow: true }),
        Follow: () => Promise.reject(JSON.stringify({ code: 'invalid', message: 'cannot reach a node at http://x:1' })),
        Unfollow: vi.fn(() => Promise.resolve()),
      },
    );
    const t = createWailsTransport(w);
    expect(await t.follows()).toEqual([]);
    expect(await t.nearby()).toEqual([]);
    expect(await t.settings()).toEqual({ autoFollow: true });
    await expect(t.follow('x:1')).rejects.toEqual({ code: 'invalid', message: 'cannot reach a node at http://x:1' });
    await t.unfollow('b');
    expect(w.go!.app!.Node.Unfollow).toHaveBeenCalledWith('b');
  });
});
