/** Backoff computes reconnect delays: exponential, capped, with jitter. */
export interface BackoffOptions {
  baseMs: number; // first delay before jitter; default 500 ms
  maxMs: number; // cap; default 30 s
  random: () => number; // [0, 1)
}

const defaults: BackoffOptions = { baseMs: 500, maxMs: 30_000, random: Math.random };

/**
 * backoffDelay returns the delay before attempt n (0 = first retry): the
 * "equal jitter" scheme, half fixed and half random, so peers that lost the
 * node at the same moment do not all come back at once, yet none waits less
 * than half the step.
 */
export function backoffDelay(attempt: number, opts: Partial<BackoffOptions> = {}): number {
  const o = { ...defaults, ...opts };
  const step = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + o.random() * (step / 2));
}
