import { useEffect, useRef, useState } from 'react';
import type { Post } from '../../../transport';
import { comparePosts } from '../api/feedStore';

interface Shown {
  list: readonly Post[] | null; // the list last looked at
  seen: ReadonlySet<string> | null; // ids shown so far (and still in the feed); null before the first page
  oldest: Post | null; // the oldest post of that list
  newest: Post | null; // its newest post, when the list did not start at the head
  arrived: ReadonlySet<string>; // ids that list added among the posts already shown
}

/** FeedWindow is what useArrivals needs of the feed besides the list shown. */
export interface FeedWindow {
  posts: readonly Post[]; // every post the feed holds: seen ids outside it are forgotten
  hasNewer: boolean; // the feed does not start at the head: what comes above is read back, not new
}

const nothing: ReadonlySet<string> = new Set();

// look compares a new list with what was shown before it.
function look(prev: Shown, list: readonly Post[], feed: FeedWindow | undefined): Shown {
  const arrived = new Set<string>();
  const { seen, oldest, newest } = prev;
  if (seen) {
    for (const p of list) {
      if (seen.has(p.id) || (oldest !== null && comparePosts(p, oldest) >= 0)) continue;
      if (newest !== null && comparePosts(p, newest) < 0) continue; // a page read back above
      arrived.add(p.id);
    }
  }
  let ids = new Set([...(seen ?? []), ...list.map((p) => p.id)]);
  // the feed drops pages far from the reader: forget them, so that this set stays as small
  if (feed && ids.size > 2 * feed.posts.length + 100) {
    const held = new Set(feed.posts.map((p) => p.id));
    ids = new Set([...ids].filter((id) => held.has(id)));
  }
  return {
    list,
    seen: ids,
    oldest: list[list.length - 1] ?? null,
    newest: feed?.hasNewer ? (list[0] ?? null) : null,
    arrived: arrived.size ? arrived : nothing,
  };
}

/**
 * useArrivals returns the ids of the posts in visible that arrived among
 * those already shown, which slide in; the first page and older pages
 * appended at the end just appear. Each new list is compared with the one
 * before it while rendering (React's "state from the previous render"), so
 * a card knows when it mounts. Pages read back above a list that did not
 * start at the head (feed.hasNewer) just appear too.
 */
export function useArrivals(visible: readonly Post[], loaded: boolean, feed?: FeedWindow): ReadonlySet<string> {
  const [shown, setShown] = useState<Shown>({ list: null, seen: null, oldest: null, newest: null, arrived: nothing });
  if (loaded && shown.list !== visible) setShown(look(shown, visible, feed));
  return shown.arrived;
}

/** streamPosts arrivals within streamWindowMs make a stream. */
const streamPosts = 4;
const streamWindowMs = 1_000;

/**
 * useStreaming tells whether posts are arriving as a stream (streamPosts or
 * more within a second) rather than one by one; it turns false a second after
 * the last change. Cards of a stream appear without sliding in: a slide
 * changes the card's height on every frame for 0.4 s, and with a hundred
 * posts a second every card on screen would be sliding, re-laid out and
 * re-measured on every frame.
 */
export function useStreaming(arrived: ReadonlySet<string>): boolean {
  const [streaming, setStreaming] = useState(false);
  const times = useRef<number[]>([]);
  useEffect(() => {
    const now = performance.now();
    const recent = times.current.filter((t) => now - t < streamWindowMs);
    for (let i = 0; i < Math.min(arrived.size, streamPosts); i++) recent.push(now);
    times.current = recent;
    if (recent.length >= streamPosts) setStreaming(true);
    const timer = setTimeout(() => setStreaming(false), streamWindowMs);
    return () => clearTimeout(timer);
  }, [arrived]);
  return streaming;
}
