import { useCallback, useEffect, useLayoutEffect, useMemo, useState, type FocusEvent, type KeyboardEvent, type ReactNode, type RefObject } from 'react';
import { ArrowUpIcon } from '../../../lib/icons';
import type { ApiError, Post, PostPatch } from '../../../transport';
import { useFeed, useFeedController, useFeedStatus } from '../hooks/feedContext';
import { useArrivals, useStreaming } from '../hooks/useArrivals';
import { useInfiniteScroll } from '../hooks/useInfiniteScroll';
import { useNewPostsGate } from '../hooks/useNewPostsGate';
import { useOrigins } from '../hooks/originsContext';
import { useWindowedList } from '../hooks/useWindowedList';
import { describeError } from '../lib/describeError';
import { allNodes, filterChoices, filterPosts, hasUnknownOrigin, originLabel } from '../lib/origins';
import { FeedFilter } from './FeedFilter';
import { PostCard } from './PostCard';
import a11y from '../../../styles/a11y.module.css';
import styles from './FeedList.module.css';

/**
 * FeedList is the feed: newest first, older pages as the reader scrolls, new
 * posts held behind a "N new posts" pill while the reader is scrolled down.
 * j/k or the arrow keys move between posts.
 *
 * The list is windowed (useWindowedList): only the cards near the viewport
 * are in the DOM, plus the focused card and any card holding an open editor
 * or a pending change, which are never unmounted.
 *
 * The feed behind it is bounded too: after each render the list tells the
 * store which posts it renders and which it pins, and the store drops pages
 * far above or below them (FeedStore.trim). Once the top was dropped, reaching
 * the top of the loaded posts reads the newer page back (with the reader's
 * place held), and the pill offers a way back to the head.
 */
export function FeedList() {
  const feed = useFeed();
  const status = useFeedStatus();
  const controller = useFeedController();
  const origins = useOrigins();
  const [picked, setPicked] = useState(allNodes);
  const choices = useMemo(() => (origins.self ? filterChoices(feed.posts, origins) : []), [feed.posts, origins]);
  // a node that is gone from the choices (unfollowed) shows every post again
  const filter = choices.some((c) => c.id === picked) ? picked : allNodes;
  const shownPosts = useMemo(() => filterPosts(feed.posts, filter, origins), [feed.posts, filter, origins]);
  const { visible, held, release } = useNewPostsGate(shownPosts, !feed.hasNewer);
  const keys = useMemo(() => visible.map((p) => p.id), [visible]);

  // cards that stay rendered wherever they are: focused, busy, or about to be focused
  const [focused, setFocused] = useState<string | null>(null);
  const [busy, setBusy] = useState<ReadonlySet<string>>(() => new Set());
  const [focusNext, setFocusNext] = useState<string | null>(null);
  const onBusy = useCallback((id: string, on: boolean) => {
    setBusy((b) => {
      if (b.has(id) === on) return b;
      const n = new Set(b);
      if (on) n.add(id);
      else n.delete(id);
      return n;
    });
  }, []);
  const pinned = useMemo(() => {
    const p = new Set(busy);
    if (focused) p.add(focused);
    if (focusNext) p.add(focusNext);
    return p;
  }, [busy, focused, focusNext]);
  const { container, slots, measure, scrollToTop, range } = useWindowedList({ keys, pinned, anchorTop: feed.hasNewer });
  const { hasNewer } = feed;
  const showNew = useCallback(() => {
    // the head was dropped: read it again first, so that the way up ends there
    if (hasNewer) void controller.loadHead().then(() => release(scrollToTop));
    else release(scrollToTop);
  }, [hasNewer, controller, release, scrollToTop]);

  // drop pages far from what is rendered (never a pinned card)
  useEffect(() => {
    const first = keys[range.start];
    const last = keys[range.end - 1];
    if (first !== undefined && last !== undefined) controller.store.trim(first, last, pinned);
  }, [keys, range, pinned, controller]);
  const unknown = useMemo(() => hasUnknownOrigin(feed.posts, origins), [feed.posts, origins]);
  const { unknownOrigin } = origins;
  useEffect(() => {
    if (unknown) unknownOrigin();
  }, [unknown, unknownOrigin]);

  const arrived = useArrivals(visible, feed.loaded, feed);
  const streaming = useStreaming(arrived);

  const loadMore = useCallback(() => void controller.loadMore(), [controller]);
  const loadNewer = useCallback(() => void controller.loadNewer(), [controller]);
  const onUpdate = useCallback((id: string, patch: PostPatch) => controller.update(id, patch), [controller]);
  const onDelete = useCallback((id: string, version: number) => controller.remove(id, version), [controller]);
  const sentinel = useInfiniteScroll<HTMLDivElement>(
    feed.loaded && feed.hasMore && !status.loadingMore && !status.moreError,
    loadMore,
    feed.posts.length,
  );
  const topSentinel = useInfiniteScroll<HTMLDivElement>(
    feed.loaded && feed.hasNewer && !status.loadingNewer && !status.newerError,
    loadNewer,
    feed.posts.length,
  );
  // positions in the whole feed: the posts dropped above count (with every node shown)
  const above = filter === allNodes ? feed.above : 0;
  const setSize = feed.hasMore || (feed.hasNewer && filter !== allNodes) ? -1 : above + visible.length;

  // The next card may not be rendered (the focused card is kept while the
  // reader scrolls away): it is pinned, and focused once it is in the DOM.
  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const t = e.target as HTMLElement;
    if (t.tagName !== 'ARTICLE') return;
    const down = e.key === 'j' || e.key === 'ArrowDown';
    const up = e.key === 'k' || e.key === 'ArrowUp';
    if (!down && !up) return;
    const i = keys.indexOf(t.dataset.postId ?? '');
    if (i < 0) return;
    const next = keys[down ? i + 1 : i - 1];
    if (next !== undefined) {
      e.preventDefault();
      const el = cardElement(e.currentTarget, next);
      if (el) {
        el.focus({ preventScroll: true });
        el.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
      } else {
        setFocusNext(next);
      }
    } else if (down && feed.hasMore) {
      loadMore();
    } else if (up && feed.hasNewer) {
      loadNewer();
    }
  }

  useLayoutEffect(() => {
    if (focusNext === null) return;
    const el = container.current && cardElement(container.current, focusNext);
    if (el) {
      el.focus({ preventScroll: true });
      el.scrollIntoView({ block: 'nearest' });
    }
    if (el || !keys.includes(focusNext)) setFocusNext(null);
  }, [focusNext, slots, keys, container]);

  function onFocus(e: FocusEvent<HTMLDivElement>) {
    const key = (e.target as HTMLElement).closest<HTMLElement>('[data-key]')?.dataset.key ?? null;
    setFocused(key);
  }

  function onBlur(e: FocusEvent<HTMLDivElement>) {
    if (!e.currentTarget.contains(e.relatedTarget)) setFocused(null);
  }

  if (!feed.loaded) {
    return status.loadError ? (
      <div className={styles.empty} role="alert">
        <p className={styles.emptyTitle}>Can't load the feed</p>
        <p>{describeError(status.loadError)} Retrying…</p>
      </div>
    ) : (
      <div className={styles.skeletons} aria-busy="true" aria-label="Loading the feed">
        {[0, 1, 2].map((i) => (
          <div key={i} className={styles.skeleton} />
        ))}
      </div>
    );
  }

  return (
    <>
      {(held > 0 || feed.hasNewer) && (
        <div className={styles.pillDock}>
          <button type="button" className={styles.pill} onClick={showNew}>
            <ArrowUpIcon />
            {held === 0 ? 'Back to the top' : held === 1 ? '1 new post' : `${held} new posts`}
          </button>
        </div>
      )}
      <div role="status" aria-live="polite" className={a11y.srOnly}>
        {held > 0 ? `${held} new ${held === 1 ? 'post' : 'posts'} above` : ''}
      </div>
      {choices.length > 1 && <FeedFilter choices={choices} value={filter} onChange={setPicked} />}
      {visible.length === 0 && !feed.hasMore && !feed.hasNewer && filter !== allNodes ? (
        <div className={styles.empty}>
          <p className={styles.emptyTitle}>No posts from {choices.find((c) => c.id === filter)?.name} here</p>
          <p>Choose All to see every post.</p>
        </div>
      ) : visible.length === 0 && !feed.hasMore && !feed.hasNewer ? (
        <div className={styles.empty}>
          <p className={styles.emptyTitle}>No posts yet</p>
          <p>{status.canWrite ? 'Write the first one above.' : 'New posts will show up here as they are written.'}</p>
        </div>
      ) : (
        <>
          {feed.hasNewer && (
            <PagesEdge edge="newer" sentinel={topSentinel} loading={status.loadingNewer} error={status.newerError} more onLoad={loadNewer} />
          )}
          <div
            ref={container}
            role="feed"
            aria-busy={status.loadingMore}
            aria-label="Posts"
            className={styles.feed}
            onKeyDown={onKeyDown}
            onFocus={onFocus}
            onBlur={onBlur}
          >
            {slots.map((s) => {
              if (s.kind === 'spacer') return <div key={s.key} className={styles.spacer} style={{ height: s.height }} aria-hidden="true" />;
              const p: Post = visible[s.index]!;
              const o = originLabel(p.origin, origins);
              return (
                <div key={p.id} ref={measure} data-key={p.id} className={styles.item}>
                  <PostCard
                    posInSet={above + s.index + 1}
                    setSize={setSize}
                    post={p}
                    canWrite={status.canWrite && o.mine}
                    originId={o.id}
                    originName={o.name}
                    mine={o.mine}
                    enter={!streaming && arrived.has(p.id)}
                    onUpdate={onUpdate}
                    onDelete={onDelete}
                    onBusy={onBusy}
                  />
                </div>
              );
            })}
          </div>
        </>
      )}
      <PagesEdge edge="older" sentinel={sentinel} loading={status.loadingMore} error={status.moreError} more={feed.hasMore} onLoad={loadMore}>
        {!feed.hasMore && visible.length > 0 && <span className={styles.end}>You're all caught up</span>}
      </PagesEdge>
    </>
  );
}

// cardElement finds the article of post id among the rendered cards.
function cardElement(root: HTMLElement, id: string): HTMLElement | null {
  return root.querySelector<HTMLElement>(`article[data-post-id="${CSS.escape(id)}"]`);
}

/**
 * PagesEdge is the end of the loaded posts on one side: the sentinel that
 * reads the next page as it nears the viewport, a spinner while it is read,
 * the error with a retry, or a button to read it by hand.
 */
function PagesEdge({
  edge,
  sentinel,
  loading,
  error,
  more,
  onLoad,
  children,
}: {
  edge: 'newer' | 'older';
  sentinel: RefObject<HTMLDivElement | null>;
  loading: boolean;
  error: ApiError | null;
  more: boolean; // pages remain on that side
  onLoad: () => void;
  children?: ReactNode;
}) {
  return (
    <div ref={sentinel} className={styles.footer}>
      {loading && <span className={styles.spinner} aria-label={`Loading ${edge} posts`} />}
      {error && (
        <p role="alert">
          Couldn't load {edge} posts: {describeError(error)}{' '}
          <button type="button" className={styles.linkButton} onClick={onLoad}>
            Try again
          </button>
        </p>
      )}
      {more && !loading && !error && (
        <button type="button" className={styles.linkButton} onClick={onLoad}>
          Load {edge} posts
        </button>
      )}
      {children}
    </div>
  );
}
