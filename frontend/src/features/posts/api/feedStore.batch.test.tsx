import { act, cleanup, render } from '@testing-library/react';
import { useSyncExternalStore } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { ev, post } from './feedFixtures';
import { FeedStore } from './feedStore';

afterEach(cleanup);

// manual is a scheduler the test runs by hand: it shows what one flush holds.
function manual() {
  const queue: Array<() => void> = [];
  return {
    schedule: (f: () => void) => queue.push(f),
    get pending() {
      return queue.length;
    },
    run: () => queue.splice(0).forEach((f) => f()),
  };
}

const macrotask = () => new Promise((r) => setTimeout(r, 0));

describe('FeedStore batching', () => {
  it('tells subscribers once for a burst and the snapshot has every change in order', () => {
    const m = manual();
    const s = new FeedStore(m.schedule);
    s.load({ posts: [post(2), post(1)], next: '', prev: '', seq: 2 }, 'E1');
    m.run();
    let calls = 0;
    s.subscribe(() => calls++);
    // 5,000 creates, arriving in shuffled date order, plus an update and a delete
    const ns = Array.from({ length: 5000 }, (_, i) => i + 3);
    for (let i = ns.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [ns[i], ns[j]] = [ns[j]!, ns[i]!];
    }
    let seq = 2;
    for (const n of ns) expect(s.applyEvent(ev(++seq, post(n)))).toBe('applied');
    expect(s.applyEvent(ev(++seq, post(100, { title: 'edited', version: 2 }), 'update'))).toBe('applied');
    expect(s.applyEvent(ev(++seq, post(1, { deleted: true, version: 2 }), 'delete'))).toBe('applied');
    expect(calls).toBe(0);
    expect(m.pending).toBe(1);
    m.run();
    expect(calls).toBe(1);
    const snap = s.getSnapshot();
    expect(snap.seq).toBe(seq);
    expect(snap.posts).toHaveLength(5001);
    expect(snap.posts.map((p) => p.id)).toEqual(
      Array.from({ length: 5001 }, (_, i) => post(5002 - i).id),
    );
    expect(snap.posts.find((p) => p.id === post(100).id)?.title).toBe('edited');
    expect(s.getSnapshot()).toBe(snap);
  });

  it('keeps gap detection synchronous inside a batch', () => {
    const m = manual();
    const s = new FeedStore(m.schedule);
    s.load({ posts: [], next: '', prev: '', seq: 0 }, 'E1');
    expect(s.applyEvent(ev(1, post(1)))).toBe('applied');
    expect(s.applyEvent(ev(3, post(3)))).toBe('gap');
    expect(s.applyEvent(ev(4, post(4)))).toBe('gap');
    expect(s.getSnapshot().needsResync).toBe(true);
    m.run();
    expect(s.getSnapshot().posts.map((p) => p.title)).toEqual(['title 1']);
  });

  it('renders once for 5,000 events that arrive in separate tasks', async () => {
    const m = manual();
    const s = new FeedStore(m.schedule);
    s.load({ posts: [], next: '', prev: '', seq: 0 }, 'E1');
    m.run();
    let renders = 0;
    function Feed() {
      const snap = useSyncExternalStore(s.subscribe, s.getSnapshot);
      renders++;
      return <ol>{snap.posts.slice(0, 3).map((p) => <li key={p.id}>{p.title}</li>)}</ol>;
    }
    const { container } = render(<Feed />);
    const before = renders;
    for (let n = 1; n <= 5000; n++) {
      s.applyEvent(ev(n, post(n)));
      if (n % 500 === 0) await macrotask(); // a websocket delivers each message as its own task
    }
    expect(renders).toBe(before);
    act(() => m.run());
    expect(renders).toBe(before + 1);
    expect(Array.from(container.querySelectorAll('li'), (li) => li.textContent)).toEqual([
      'title 5000',
      'title 4999',
      'title 4998',
    ]);
    expect(s.getSnapshot().posts).toHaveLength(5000);
  });
});
