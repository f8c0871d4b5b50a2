import { describe, expect, test } from 'vitest';
import { HeightCache, defaultEstimate, itemAt, layoutOf, rangeFor, slotsFor } from './useWindowedList';

const keys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`);

describe('layoutOf', () => {
  test('places measured items at their height and the others at the mean of those measured', () => {
    const cache = new HeightCache();
    expect(layoutOf(keys(2), cache).offsets).toEqual(new Float64Array([0, defaultEstimate, 2 * defaultEstimate]));
    cache.set('k0', 100);
    cache.set('k2', 200);
    const l = layoutOf(keys(4), cache);
    // k1 and k3 unmeasured: 150 each
    expect([...l.offsets]).toEqual([0, 100, 250, 450, 600]);
    expect(l.index.get('k3')).toBe(3);
  });

  test('a key measured again moves the items after it; prune keeps the cache no bigger than the list', () => {
    const cache = new HeightCache();
    cache.set('k0', 100);
    expect(cache.set('k0', 100)).toBe(false);
    expect(cache.set('k0', 120)).toBe(true);
    expect(layoutOf(keys(2), cache).offsets[1]).toBe(120);
    cache.set('gone', 500);
    cache.prune(keys(1));
    expect(cache.get('gone')).toBeUndefined();
    expect(cache.estimate()).toBe(120);
  });
});

describe('rangeFor', () => {
  const offsets = layoutOf(keys(1_000), new HeightCache()).offsets; // 150 px each

  test('covers the viewport and the margin on both sides', () => {
    const r = rangeFor(offsets, 15_000, 900, 900, 0);
    expect(itemAt(offsets, 15_000)).toBe(100);
    expect(r.start).toBe(94); // 14,100 px
    expect(r.end).toBe(113); // past 16,800 px
  });

  test('renders at least min items, within the list', () => {
    expect(rangeFor(offsets, 0, 900, 0, 40)).toEqual({ start: 0, end: 40 });
    expect(rangeFor(offsets, 1e9, 900, 0, 40)).toEqual({ start: 960, end: 1_000 });
    expect(rangeFor(new Float64Array([0]), 0, 900, 900)).toEqual({ start: 0, end: 0 });
  });
});

describe('slotsFor', () => {
  test('spacers fill the gaps around the range and a pinned item, and add up to the list height', () => {
    const cache = new HeightCache();
    const l = layoutOf(keys(100), cache);
    const slots = slotsFor(l, { start: 10, end: 12 }, new Set(['k50', 'missing']));
    expect(slots).toEqual([
      { kind: 'spacer', key: 'before-k10', height: 1_500 },
      { kind: 'item', index: 10 },
      { kind: 'item', index: 11 },
      { kind: 'spacer', key: 'before-k50', height: 38 * 150 },
      { kind: 'item', index: 50 },
      { kind: 'spacer', key: 'after', height: 49 * 150 },
    ]);
    const total = slots.reduce((y, s) => y + (s.kind === 'spacer' ? s.height : 150), 0);
    expect(total).toBe(l.offsets[100]);
  });
});
