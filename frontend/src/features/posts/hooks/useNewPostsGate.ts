import { useCallback, useEffect, useEffectEvent, useMemo, useState } from 'react';
import type { Post } from '../../../transport';
import { comparePosts } from '../api/feedStore';

/** How far from the top (px) the reader still counts as "at the top". */
const topSlack = 120;

/**
 * splitAtFrontier keeps posts newer than frontier out of view. frontier is
 * the newest post shown when the reader scrolled away from the top.
 */
export function splitAtFrontier(posts: readonly Post[], frontier: Post | null) {
  if (!frontier) return { visible: posts, held: 0 };
  const visible = posts.filter((p) => comparePosts(p, frontier) >= 0);
  return { visible, held: posts.length - visible.length };
}

function scrollToTop(): void {
  window.scrollTo({ top: 0, behavior: 'smooth' });
}

function atTop(): boolean {
  return window.scrollY <= topSlack;
}

/**
 * useNewPostsGate holds new posts back while the reader is scrolled down, so
 * the page does not jump under them; release() shows them and scrolls up
 * (with scrollUp, if given). enabled is false while posts does not start at
 * the head of the feed: what comes above it then are pages read back, not
 * new posts, and nothing is held.
 */
export function useNewPostsGate(posts: readonly Post[], enabled = true) {
  const [frontier, setFrontier] = useState<Post | null>(null);

  // an effect event: it sees the latest posts, and the listener stays put
  const check = useEffectEvent(() => {
    if (!enabled || atTop()) setFrontier(null);
    else setFrontier((f) => f ?? posts[0] ?? null);
  });

  // the head came back (or went): hold from here on, or stop holding
  const [wasEnabled, setWasEnabled] = useState(enabled);
  if (wasEnabled !== enabled) {
    setWasEnabled(enabled);
    setFrontier(enabled && !atTop() ? (posts[0] ?? null) : null);
  }

  useEffect(() => {
    let frame = 0;
    const onScroll = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        check();
      });
    };
    window.addEventListener('scroll', onScroll, { passive: true });
    return () => {
      window.removeEventListener('scroll', onScroll);
      cancelAnimationFrame(frame);
    };
  }, []);

  // scrollUp lets a windowed list scroll its own way (without holding its place)
  const release = useCallback((scrollUp: () => void = scrollToTop) => {
    setFrontier(null);
    scrollUp();
  }, []);

  const split = useMemo(() => splitAtFrontier(posts, enabled ? frontier : null), [posts, frontier, enabled]);
  return { ...split, release };
}
