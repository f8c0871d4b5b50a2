import { useState } from 'react';
import type { Post } from '../../../transport';
import { comparePosts } from '../api/feedStore';

interface Shown {
  list: readonly Post[] | null; // the list last looked at
  seen: ReadonlySet<string> | null; // ids shown so far; null before the first page
  oldest: Post | null; // the oldest post of that list
  arrived: ReadonlySet<string>; // ids that list added among the posts already shown
}

const nothing: ReadonlySet<string> = new Set();

// look compares a new list with what was shown before it.
function look(prev: Shown, list: readonly Post[]): Shown {
  const arrived = new Set<string>();
  const { seen, oldest } = prev;
  if (seen) {
    for (const p of list) {
      if (!seen.has(p.id) && (oldest === null || comparePosts(p, oldest) < 0)) arrived.add(p.id);
    }
  }
  return {
    list,
    seen: new Set([...(seen ?? []), ...list.map((p) => p.id)]),
    oldest: list[list.length - 1] ?? null,
    arrived: arrived.size ? arrived : nothing,
  };
}

/**
 * useArrivals returns the ids of the posts in visible that arrived among
 * those already shown, which slide in; the first page and older pages
 * appended at the end just appear. Each new list is compared with the one
 * before it while rendering (React's "state from the previous render"), so
 * a card knows when it mounts.
 */
export function useArrivals(visible: readonly Post[], loaded: boolean): ReadonlySet<string> {
  const [shown, setShown] = useState<Shown>({ list: null, seen: null, oldest: null, arrived: nothing });
  if (loaded && shown.list !== visible) setShown(look(shown, visible));
  return shown.arrived;
}
