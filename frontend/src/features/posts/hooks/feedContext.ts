import { createContext, useContext, useSyncExternalStore } from 'react';
import type { FeedController, FeedStatus } from '../api/feedController';
import type { FeedSnapshot } from '../api/feedStore';

/** FeedContext carries the session's FeedController to the posts components. */
export const FeedContext = createContext<FeedController | null>(null);

export function useFeedController(): FeedController {
  const c = useContext(FeedContext);
  if (!c) throw new Error('useFeedController outside <FeedContext>');
  return c;
}

/** useFeed returns the feed's current snapshot and re-renders on change. */
export function useFeed(): FeedSnapshot {
  const { store } = useFeedController();
  return useSyncExternalStore(store.subscribe, store.getSnapshot);
}

export function useFeedStatus(): FeedStatus {
  const { status } = useFeedController();
  return useSyncExternalStore(status.subscribe, status.get);
}
