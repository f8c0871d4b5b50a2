/** Scheduler runs f later, once; FeedStore uses one to batch its notifications. */
export type Scheduler = (f: () => void) => void;

// A hidden page gets no animation frames; the timer still lets changes
// through there, a few times a second.
const hiddenFallbackMs = 250;

function inReactTestEnvironment(): boolean {
  return (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT === true;
}

/**
 * frameScheduler runs f before the next paint (requestAnimationFrame), or
 * after hiddenFallbackMs if no frame comes (a hidden page), whichever is
 * first. Under React's act() test environment it runs f at once: act cannot
 * see a frame callback, and component tests expect the DOM to follow an
 * event inside act(); tests of the batching itself pass their own scheduler.
 */
export const frameScheduler: Scheduler = (f) => {
  if (inReactTestEnvironment() || typeof requestAnimationFrame === 'undefined') {
    if (inReactTestEnvironment()) f();
    else setTimeout(f, 0);
    return;
  }
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    cancelAnimationFrame(frame);
    clearTimeout(timer);
    f();
  };
  const frame = requestAnimationFrame(run);
  const timer = setTimeout(run, hiddenFallbackMs);
};
