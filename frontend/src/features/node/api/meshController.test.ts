import { describe, expect, it, vi } from 'vitest';
import type { FollowInfo, Transport } from '../../../transport';
import { MeshController, pollMs, settingsMs, unknownOriginMs, type MeshDeps } from './meshController';

const harbour: FollowInfo = {
  node: 'b',
  name: 'Harbour',
  url: 'http://192.168.1.7:7700/',
  state: 'live',
  seq: 4,
  nodeSeq: 4,
  since: '2026-12-02T09:57:00.000Z',
};

// fakeDeps is a clock the test moves and a page it shows and hides.
function fakeDeps() {
  let t = 0;
  let shown = true;
  const timers = new Map<number, { at: number; f: () => void }>();
  let next = 1;
  let onVis: (() => void) | null = null;
  const deps: MeshDeps = {
    setTimeout: (f, ms) => {
      timers.set(next, { at: t + ms, f });
      return next++;
    },
    clearTimeout: (id) => timers.delete(id as number),
    now: () => t,
    visible: () => shown,
    onVisibility: (f) => {
      onVis = f;
      return () => (onVis = null);
    },
  };
  return {
    deps,
    async advance(ms: number) {
      t += ms;
      for (const [id, x] of [...timers]) {
        if (x.at <= t) {
          timers.delete(id);
          x.f();
        }
      }
      await flush();
    },
    async show(v: boolean) {
      shown = v;
      onVis?.();
      await flush();
    },
    pending: () => timers.size,
  };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

function fakeTransport() {
  const t = {
    follows: vi.fn(() => Promise.resolve([harbour])),
    nearby: vi.fn(() => Promise.resolve([])),
    settings: vi.fn(() => Promise.resolve({ autoFollow: false })),
    setSettings: vi.fn((s: { autoFollow: boolean }) => Promise.resolve(s)),
    follow: vi.fn(() => Promise.reject({ code: 'invalid', message: 'cannot reach a node at http://x:1' })),
    unfollow: vi.fn(() => Promise.resolve()),
  };
  return t as typeof t & Transport;
}

describe('MeshController', () => {
  it('polls only while watched and the page is shown', async () => {
    const c = fakeDeps();
    const t = fakeTransport();
    const m = new MeshController(t, c.deps);
    const stop = m.watch();
    await flush();
    expect(t.follows).toHaveBeenCalledTimes(1);
    expect(m.state.get().follows).toEqual([harbour]);

    await c.advance(pollMs);
    expect(t.follows).toHaveBeenCalledTimes(2);

    await c.show(false);
    expect(m.polling).toBe(false);
    await c.advance(pollMs * 5);
    expect(t.follows, 'a hidden page polled').toHaveBeenCalledTimes(2);

    await c.show(true);
    expect(t.follows, 'a page shown again reads at once').toHaveBeenCalledTimes(3);
    await c.advance(pollMs);
    expect(t.follows).toHaveBeenCalledTimes(4);

    stop();
    expect(c.pending()).toBe(0);
    await c.advance(pollMs * 5);
    expect(t.follows, 'an unwatched section polled').toHaveBeenCalledTimes(4);
  });

  it('reads the settings when it starts, after a change and now and then, not on every poll', async () => {
    const c = fakeDeps();
    const t = fakeTransport();
    const m = new MeshController(t, c.deps);
    const stop = m.watch();
    await flush();
    for (let i = 0; i < 3; i++) await c.advance(pollMs);
    expect(t.follows).toHaveBeenCalledTimes(4);
    expect(t.settings).toHaveBeenCalledTimes(1);
    await m.setAutoFollow(true);
    await flush();
    expect(t.settings).toHaveBeenCalledTimes(2);
    for (let i = 0; i < settingsMs / pollMs; i++) await c.advance(pollMs);
    expect(t.settings).toHaveBeenCalledTimes(3);
    stop();
  });

  it('keeps the same state when a poll reads the same', async () => {
    const c = fakeDeps();
    const t = fakeTransport();
    const m = new MeshController(t, c.deps);
    await m.refresh();
    const first = m.state.get();
    await m.refresh();
    expect(m.state.get()).toBe(first);
  });

  it('reads again after a change, and rejects with the node error', async () => {
    const t = fakeTransport();
    const m = new MeshController(t, fakeDeps().deps);
    await expect(m.follow('  x:1 ')).rejects.toEqual({ code: 'invalid', message: 'cannot reach a node at http://x:1' });
    expect(t.follow).toHaveBeenCalledWith('x:1');
    await flush();
    expect(t.follows).toHaveBeenCalledTimes(1);
    await m.setAutoFollow(true);
    expect(t.setSettings).toHaveBeenCalledWith({ autoFollow: true });
    expect(m.state.get().settings).toEqual({ autoFollow: true });
  });

  it('reads the follows for a post of an unknown node at most every few seconds', async () => {
    const c = fakeDeps();
    const t = fakeTransport();
    const m = new MeshController(t, c.deps);
    m.noteOrigins(true);
    await flush();
    m.noteOrigins(true);
    await flush();
    expect(t.follows).toHaveBeenCalledTimes(1);
    await c.advance(unknownOriginMs);
    m.noteOrigins(true);
    await flush();
    expect(t.follows).toHaveBeenCalledTimes(2);
    m.noteOrigins(false);
    expect(t.follows).toHaveBeenCalledTimes(2);
  });

  it('keeps the follows when nearby and settings are missing on an older node', async () => {
    const t = fakeTransport();
    t.nearby.mockImplementation(() => Promise.reject({ code: 'not_found', message: 'no such endpoint' }));
    t.settings.mockImplementation(() => Promise.reject({ code: 'not_found', message: 'no such endpoint' }));
    const m = new MeshController(t, fakeDeps().deps);
    await m.refresh();
    expect(m.state.get()).toMatchObject({ follows: [harbour], nearby: [], settings: null, loaded: true, error: null });
  });
});
