import { describe, expect, it } from 'vitest';
import { ev, post } from './feedFixtures';
import { FeedStore, type Pacing } from './feedStore';

// rig is a store whose frames and timers the test runs by hand, on a fake clock.
function rig() {
  let clock = 0;
  const frames: Array<() => void> = [];
  const timers: Array<{ at: number; f: () => void }> = [];
  const pacing: Pacing = {
    streamChanges: 24,
    streamRate: 600,
    gapMs: 120,
    now: () => clock,
    later: (f, ms) => void timers.push({ at: clock + ms, f }),
  };
  const store = new FeedStore((f) => frames.push(f), pacing);
  const seen: number[] = []; // how many posts each notification showed
  store.subscribe(() => seen.push(store.getSnapshot().posts.length));
  store.load({ posts: [], next: '', prev: '', seq: 0 }, 'E1');
  let seq = 0;
  return {
    store,
    seen,
    frames,
    timers,
    /** apply n more creates */
    apply(n: number) {
      for (let i = 0; i < n; i++) store.applyEvent(ev(++seq, post(seq)));
    },
    /** advance the clock by ms, running the frame due now and the timers due by then */
    tick(ms: number) {
      clock += ms;
      frames.splice(0).forEach((f) => f());
      for (const t of timers.splice(0)) {
        if (t.at <= clock) t.f();
        else timers.push(t);
      }
    },
  };
}

describe('FeedStore pacing', () => {
  it('notifies on every frame while a stream is light', () => {
    const r = rig();
    r.tick(16); // the load's notification
    r.seen.length = 0;
    for (let f = 0; f < 10; f++) {
      r.apply(2); // 120 posts a second at 60 frames a second
      r.tick(16);
    }
    expect(r.seen).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
    expect(r.timers).toHaveLength(0);
  });

  it('is not started by a late frame at a light rate', () => {
    const r = rig();
    r.tick(16);
    r.apply(1);
    r.tick(16);
    r.seen.length = 0;
    r.apply(30); // 100 posts a second, and the frame came 300 ms late
    r.tick(300);
    r.apply(1);
    r.tick(16);
    expect(r.seen).toEqual([31, 32]);
    expect(r.timers).toHaveLength(0);
  });

  it('spaces notifications gapMs apart during a burst, and every change is shown', () => {
    const r = rig();
    r.tick(16);
    r.seen.length = 0;
    // 50 changes a frame (3,000 a second) for 60 frames, then nothing
    for (let f = 0; f < 60; f++) {
      r.apply(50);
      r.tick(16);
    }
    for (let f = 0; f < 20; f++) r.tick(16);
    // the first heavy frame is shown at once, then about one notification per 120 ms
    expect(r.seen[0]).toBe(50);
    expect(r.seen.length).toBeGreaterThanOrEqual(7);
    expect(r.seen.length).toBeLessThanOrEqual(10);
    expect(r.seen.at(-1)).toBe(3000);
    expect(r.store.getSnapshot().seq).toBe(3000);
  });

  it('goes back to every frame once the stream is light again', () => {
    const r = rig();
    r.tick(16);
    r.apply(100);
    r.tick(16); // a heavy notification
    r.apply(1);
    r.tick(16); // held: within 120 ms of the heavy one
    expect(r.seen.at(-1)).toBe(100);
    for (let i = 0; i < 7; i++) r.tick(16);
    expect(r.seen.at(-1)).toBe(101); // shown once the gap passed; it carried one change
    r.seen.length = 0;
    r.apply(1);
    r.tick(16);
    expect(r.seen).toEqual([102]); // the next frame, not the next gap
  });

  it('lets flush() through at once even while paced', () => {
    const r = rig();
    r.tick(16);
    r.apply(100);
    r.tick(16);
    r.apply(1);
    r.tick(16);
    expect(r.seen.at(-1)).toBe(100);
    r.store.flush();
    expect(r.seen.at(-1)).toBe(101);
  });
});
