import { useSyncExternalStore } from 'react';

// One shared clock for every relative time on the page: a single timer
// instead of one per post, and all labels change together. The finest unit
// shown is a minute, so a label is at most half a minute late; a faster
// tick would only wake the page (and the window's web process) for nothing.
const tickMs = 30_000;
let now = Date.now();
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | undefined;

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (timer === undefined) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
      for (const l of [...listeners]) l();
    }, tickMs);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

/**
 * onTick calls f with the time in ms on every tick of the shared clock, and
 * returns the function that stops it. Components that only show the time
 * (TimeAgo) write their text themselves from here, so a tick re-renders
 * nothing.
 */
export function onTick(f: (now: number) => void): () => void {
  return subscribe(() => f(now));
}

/** useNow returns the current time in ms, updated every 30 s. */
export function useNow(): number {
  return useSyncExternalStore(subscribe, () => now);
}
