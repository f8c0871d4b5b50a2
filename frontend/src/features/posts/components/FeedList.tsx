import { useCallback, useEffect, useMemo, useState, type KeyboardEvent } from 'react';
import { ArrowUpIcon } from '../../../lib/icons';
import type { Post, PostPatch } from '../../../transport';
import { useFeed, useFeedController, useFeedStatus } from '../hooks/feedContext';
import { useArrivals } from '../hooks/useArrivals';
import { useInfiniteScroll } from '../hooks/useInfiniteScroll';
import { useNewPostsGate } from '../hooks/useNewPostsGate';
import { useOrigins } from '../hooks/originsContext';
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
  const { visible, held, release } = useNewPostsGate(shownPosts);
  const unknown = useMemo(() => hasUnknownOrigin(feed.posts, origins), [feed.posts, origins]);
  const { unknownOrigin } = origins;
  useEffect(() => {
    if (unknown) unknownOrigin();
  }, [unknown, unknownOrigin]);

  const arrived = useArrivals(visible, feed.loaded);

  const loadMore = useCallback(() => void controller.loadMore(), [controller]);
  const onUpdate = useCallback((id: string, patch: PostPatch) => controller.update(id, patch), [controller]);
  const onDelete = useCallback((id: string, version: number) => controller.remove(id, version), [controller]);
  const sentinel = useInfiniteScroll<HTMLDivElement>(
    feed.loaded && feed.hasMore && !status.loadingMore && !status.moreError,
    loadMore,
    feed.posts.length,
  );

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const t = e.target as HTMLElement;
    if (t.tagName !== 'ARTICLE') return;
    const down = e.key === 'j' || e.key === 'ArrowDown';
    const up = e.key === 'k' || e.key === 'ArrowUp';
    if (!down && !up) return;
    const articles = Array.from(e.currentTarget.querySelectorAll<HTMLElement>('article'));
    const i = articles.indexOf(t);
    const next = articles[down ? i + 1 : i - 1];
    if (next) {
      e.preventDefault();
      next.focus();
      next.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    } else if (down && feed.hasMore) {
      loadMore();
    }
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
      {held > 0 && (
        <div className={styles.pillDock}>
          <button type="button" className={styles.pill} onClick={release}>
            <ArrowUpIcon />
            {held === 1 ? '1 new post' : `${held} new posts`}
          </button>
        </div>
      )}
      <div role="status" aria-live="polite" className={a11y.srOnly}>
        {held > 0 ? `${held} new ${held === 1 ? 'post' : 'posts'} above` : ''}
      </div>
      {choices.length > 1 && <FeedFilter choices={choices} value={filter} onChange={setPicked} />}
      {visible.length === 0 && !feed.hasMore && filter !== allNodes ? (
        <div className={styles.empty}>
          <p className={styles.emptyTitle}>No posts from {choices.find((c) => c.id === filter)?.name} here</p>
          <p>Choose All to see every post.</p>
        </div>
      ) : visible.length === 0 && !feed.hasMore ? (
        <div className={styles.empty}>
          <p className={styles.emptyTitle}>No posts yet</p>
          <p>{status.canWrite ? 'Write the first one above.' : 'New posts will show up here as they are written.'}</p>
        </div>
      ) : (
        <div role="feed" aria-busy={status.loadingMore} aria-label="Posts" className={styles.feed} onKeyDown={onKeyDown}>
          {visible.map((p: Post, i) => {
            const o = originLabel(p.origin, origins);
            return (
              <PostCard
                key={p.id}
                posInSet={i + 1}
                setSize={feed.hasMore ? -1 : visible.length}
                post={p}
                canWrite={status.canWrite && o.mine}
                originId={o.id}
                originName={o.name}
                mine={o.mine}
                enter={arrived.has(p.id)}
                onUpdate={onUpdate}
                onDelete={onDelete}
              />
            );
          })}
        </div>
      )}
      <div ref={sentinel} className={styles.footer}>
        {status.loadingMore && <span className={styles.spinner} aria-label="Loading older posts" />}
        {status.moreError && (
          <p role="alert">
            Couldn't load older posts: {describeError(status.moreError)}{' '}
            <button type="button" className={styles.linkButton} onClick={loadMore}>
              Try again
            </button>
          </p>
        )}
        {feed.hasMore && !status.loadingMore && !status.moreError && (
          <button type="button" className={styles.linkButton} onClick={loadMore}>
            Load older posts
          </button>
        )}
        {!feed.hasMore && visible.length > 0 && <span className={styles.end}>You're all caught up</span>}
      </div>
    </>
  );
}
