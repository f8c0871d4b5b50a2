import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { flushSync } from 'react-dom';

/** Height (px) assumed for an item before any item was measured. */
export const defaultEstimate = 150;

/** Slot is one child of the windowed list: an item to render, or a spacer standing for items that are not. */
export type Slot = { kind: 'item'; index: number } | { kind: 'spacer'; key: string; height: number };

/**
 * Layout is where every item sits, from measured heights and an estimate
 * for the others: offsets[i] is item i's top relative to the list's top,
 * offsets[n] the list's height.
 */
export interface Layout {
  keys: readonly string[];
  offsets: Float64Array;
  index: ReadonlyMap<string, number>;
}

/**
 * HeightCache remembers the measured height of each item by key, so that an
 * item scrolled out and back keeps its place; estimate() is the mean of the
 * heights measured so far, used for items never rendered.
 */
export class HeightCache {
  private heights = new Map<string, number>();
  private sum = 0;

  get(key: string): number | undefined {
    return this.heights.get(key);
  }

  /** set records a height and tells whether it changed. */
  set(key: string, h: number): boolean {
    const old = this.heights.get(key);
    if (old === h) return false;
    this.sum += h - (old ?? 0);
    this.heights.set(key, h);
    return true;
  }

  estimate(): number {
    return this.heights.size ? this.sum / this.heights.size : defaultEstimate;
  }

  /** prune forgets the keys that are no longer listed, so the cache is no bigger than the list. */
  prune(keys: readonly string[]): void {
    if (this.heights.size <= keys.length) return;
    const live = new Set(keys);
    for (const [k, h] of this.heights) {
      if (!live.has(k)) {
        this.heights.delete(k);
        this.sum -= h;
      }
    }
  }
}

/** layoutOf places keys top to bottom. */
export function layoutOf(keys: readonly string[], cache: HeightCache): Layout {
  const est = cache.estimate();
  const offsets = new Float64Array(keys.length + 1);
  const index = new Map<string, number>();
  let y = 0;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    index.set(k, i);
    offsets[i] = y;
    y += cache.get(k) ?? est;
  }
  offsets[keys.length] = y;
  return { keys, offsets, index };
}

/** itemAt is the index of the item that covers y (clamped to the list), by binary search. */
export function itemAt(offsets: Float64Array, y: number): number {
  const n = offsets.length - 1;
  let lo = 0;
  let hi = n; // the answer is in [lo, hi)
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (offsets[mid]! <= y) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Range is a half-open run of item indices [start, end). */
export interface Range {
  start: number;
  end: number;
}

/**
 * minItems is the fewest items rendered: a short feed is cheap to render in
 * full, and then find-in-page and the reader's screen reader see all of it.
 */
export const minItems = 40;

/** rangeFor is the items that intersect [top - margin, top + height + margin), at least min of them. */
export function rangeFor(offsets: Float64Array, top: number, height: number, margin: number, min = minItems): Range {
  const n = offsets.length - 1;
  if (n === 0) return { start: 0, end: 0 };
  let start = itemAt(offsets, Math.max(0, top - margin));
  let end = Math.min(n, itemAt(offsets, top + height + margin) + 1);
  if (end - start < min) {
    end = Math.min(n, start + min);
    start = Math.max(0, end - min);
  }
  return { start, end };
}

// covers tells whether range r still spans the viewport plus half the margin
// around it: the list re-renders only after half a margin of scrolling.
function covers(offsets: Float64Array, r: Range, top: number, height: number, margin: number): boolean {
  const n = offsets.length - 1;
  if (r.start >= r.end) return n === 0;
  const topOk = r.start === 0 || offsets[r.start]! <= Math.max(0, top - margin / 2);
  const bottomOk = r.end === n || offsets[r.end]! >= top + height + margin / 2;
  return topOk && bottomOk;
}

/** slotsFor lays out the rendered items (range and pinned, ascending) with spacers between them. */
export function slotsFor(layout: Layout, r: Range, pinned: Iterable<string>): Slot[] {
  const { keys, offsets } = layout;
  const shown = new Set<number>();
  for (let i = r.start; i < r.end; i++) shown.add(i);
  for (const k of pinned) {
    const i = layout.index.get(k);
    if (i !== undefined) shown.add(i);
  }
  const order = [...shown].sort((a, b) => a - b);
  const slots: Slot[] = [];
  let y = 0; // where the next slot starts
  for (const i of order) {
    if (offsets[i]! > y) slots.push({ kind: 'spacer', key: `before-${keys[i]}`, height: offsets[i]! - y });
    slots.push({ kind: 'item', index: i });
    y = offsets[i + 1]!;
  }
  const total = offsets[keys.length]!;
  if (total > y) slots.push({ kind: 'spacer', key: 'after', height: total - y });
  return slots;
}

/** viewTop is how far (px) the list's top is above the viewport's top (a layout read). */
function viewTop(list: HTMLElement | null): number {
  return list ? -list.getBoundingClientRect().top : 0;
}

/** Anchor is the item at the viewport's top and how far (px) the viewport's top is into it. */
interface Anchor {
  key: string;
  into: number;
  atTop: boolean; // noted while the list's top was in view (anchorTop)
  seenAt: number; // the viewport's top (list coordinates) when noted
  seenY: number; // window.scrollY then
}

/** WindowedListOptions tune useWindowedList. */
export interface WindowedListOptions {
  /** keys of the items, in list order */
  keys: readonly string[];
  /** keys to render wherever they are (a focused card, one being edited) */
  pinned: ReadonlySet<string>;
  /** extra px rendered above and below the viewport; default: one viewport height */
  margin?: number;
  /**
   * the first item is not the list's head (newer items get loaded above it):
   * keep the reader's place even while the list's top is in view
   */
  anchorTop?: boolean;
}

/**
 * useWindowedList renders only the items of a long list near the viewport
 * (the window scrolls, not the list), with spacers of the right height for
 * the others, so DOM size and render cost stay flat however long the list.
 *
 * Heights are measured by a ResizeObserver on every rendered item (put
 * `measure` on it, with data-key) and estimated for the rest. The window is
 * recomputed from the current layout on every scroll, resize, height change
 * and change of keys, never from stale offsets; while the reader is scrolled
 * into the list, the item at the top of the viewport stays where it is when
 * items above it come, go or change height (the hook scrolls to compensate,
 * before paint); at the list's top, new items push the others down.
 */
export function useWindowedList({ keys, pinned, margin, anchorTop = false }: WindowedListOptions) {
  const [cache] = useState(() => new HeightCache());
  const [heightsVersion, setHeightsVersion] = useState(0);
  // the viewport relative to the list's top, as last rendered
  const [view, setView] = useState({ top: 0, height: typeof window === 'undefined' ? 800 : window.innerHeight });
  const container = useRef<HTMLDivElement>(null);

  const layout = useMemo(() => {
    void heightsVersion; // a new measurement moves the items below it
    cache.prune(keys);
    return layoutOf(keys, cache);
  }, [keys, cache, heightsVersion]);
  const m = margin ?? view.height;
  const range = useMemo(() => rangeFor(layout.offsets, view.top, view.height, m), [layout, view, m]);
  const slots = useMemo(() => slotsFor(layout, range, pinned), [layout, range, pinned]);

  // What the listeners need of the last commit, without re-subscribing.
  const committed = useRef({ layout, range, margin: m, anchorTop });
  const anchor = useRef<Anchor | null>(null);
  const unanchored = useRef(false); // scrolling to the top: follow no item until there

  // remember the item at the viewport's top, once the list's top is scrolled
  // past (or, with anchorTop, the first item while the list's top is in view:
  // into is then negative)
  const note = useCallback((top: number, l: Layout, atTop: boolean) => {
    if (top <= 0) unanchored.current = false;
    if ((top <= 0 && !atTop) || unanchored.current || l.offsets.length < 2) {
      anchor.current = null;
      return;
    }
    const i = top <= 0 ? 0 : itemAt(l.offsets, top);
    anchor.current = { key: l.keys[i]!, into: top - l.offsets[i]!, atTop: top <= 0, seenAt: top, seenY: window.scrollY };
  }, []);

  // check re-renders the window if it no longer covers the viewport.
  const check = useCallback(() => {
    const { layout: l, range: r, margin: mg, anchorTop: at } = committed.current;
    const top = viewTop(container.current);
    const height = window.innerHeight;
    note(top, l, at);
    if (!covers(l.offsets, r, top, height, mg)) setView({ top, height });
  }, [note]);

  // After each commit that moved items or the range: keep the anchored item
  // in place, then make sure the rendered range covers where the viewport
  // really is (it may have moved since the range was computed).
  useLayoutEffect(() => {
    const before = committed.current;
    committed.current = { layout, range, margin: m, anchorTop };
    if (!container.current) return;
    let top = viewTop(container.current);
    // the window scrolled since the anchor was noted (a scroll whose event
    // has not come yet): anchor where the reader looks now, in the layout
    // they saw, or the compensation would undo their scroll. (A change above
    // the list moves the list, not the window: that one is compensated.)
    const was = anchor.current;
    if (was && window.scrollY !== was.seenY) note(was.seenAt + window.scrollY - was.seenY, before.layout, before.anchorTop);
    const a = anchor.current;
    const i = a ? layout.index.get(a.key) : undefined;
    // an anchor noted at the list's top (anchorTop) holds there too, even
    // in the commit that brings the head and turns anchorTop off
    if (a && i !== undefined && (top > 0 || a.atTop)) {
      const want = layout.offsets[i]! + a.into;
      if (Math.abs(want - top) >= 0.5) {
        window.scrollBy(0, want - top);
        top = viewTop(container.current);
      }
    }
    note(top, layout, anchorTop);
    const height = window.innerHeight;
    if (!covers(layout.offsets, range, top, height, m)) setView({ top, height });
  }, [layout, range, m, note, anchorTop]);

  useEffect(() => {
    window.addEventListener('scroll', check, { passive: true });
    window.addEventListener('resize', check);
    return () => {
      window.removeEventListener('scroll', check);
      window.removeEventListener('resize', check);
    };
  }, [check]);

  // One observer for every rendered item, made by the first item's ref. A
  // change above the viewport is rendered at once (flushSync), so the
  // compensating scroll lands in the same frame as the change; one below
  // waits for React's next render.
  const observer = useRef<ResizeObserver | null>(null);
  const onResize = useCallback(
    (entries: ResizeObserverEntry[]) => {
      const top = viewTop(container.current);
      const { layout: l } = committed.current;
      let changed = false;
      let above = false;
      for (const e of entries) {
        const el = e.target as HTMLElement;
        const key = el.dataset.key;
        if (key === undefined || !el.isConnected) continue;
        const h = e.borderBoxSize?.[0]?.blockSize ?? el.getBoundingClientRect().height;
        if (!cache.set(key, h)) continue;
        changed = true;
        const i = l.index.get(key);
        if (i !== undefined && l.offsets[i]! < top) above = true;
      }
      if (!changed) return;
      if (above) flushSync(() => setHeightsVersion((v) => v + 1));
      else setHeightsVersion((v) => v + 1);
    },
    [cache],
  );
  useEffect(
    () => () => {
      observer.current?.disconnect();
      observer.current = null;
    },
    [],
  );

  /** measure is the ref callback of each rendered item's element (which carries data-key). */
  const measure = useCallback(
    (el: HTMLElement | null) => {
      if (!el || typeof ResizeObserver === 'undefined') return;
      const ro = (observer.current ??= new ResizeObserver(onResize));
      ro.observe(el);
      return () => ro.unobserve(el);
    },
    [onResize],
  );

  /** scrollToTop scrolls the window to its top (smoothly), following no item on the way. */
  const scrollToTop = useCallback(() => {
    unanchored.current = true;
    anchor.current = null;
    window.scrollTo({ top: 0, behavior: 'smooth' });
  }, []);

  return { container, slots, measure, scrollToTop, layout, range };
}
