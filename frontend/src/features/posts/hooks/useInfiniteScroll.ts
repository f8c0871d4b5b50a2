import { useEffect, useEffectEvent, useRef } from 'react';

/**
 * useInfiniteScroll calls onReach when the returned element comes within
 * 600 px of the viewport. Without IntersectionObserver it does nothing; the
 * feed's "Load older posts" button still works. A change of key observes
 * again.
 */
export function useInfiniteScroll<T extends Element>(enabled: boolean, onReach: () => void, key: unknown) {
  const ref = useRef<T>(null);
  const reach = useEffectEvent(onReach); // the latest onReach, without observing again
  useEffect(() => {
    const el = ref.current;
    if (!enabled || !el || typeof IntersectionObserver === 'undefined') return;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) reach();
    }, { rootMargin: '600px 0px' });
    io.observe(el);
    return () => io.disconnect();
  }, [enabled, key]); // observing anew after each page re-checks a sentinel still in view
  return ref;
}
