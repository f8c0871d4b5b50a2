import { frameScheduler, type Scheduler } from '../../../lib/frame';
import type { Page, Post, PostsEnvelope } from '../../../transport/types';

/**
 * comparePosts orders the feed: newest createdAt first, then the larger id
 * first (UUIDv7 ids sort by time, so ties at the same millisecond are stable
 * and agree with the node's keyset pagination). Times compare as strings
 * because the node always prints exactly three fraction digits in UTC.
 */
export function comparePosts(a: Post, b: Post): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  if (a.id !== b.id) return a.id < b.id ? 1 : -1;
  return 0;
}

/** What became of one change given to the store. */
export type ApplyResult =
  | 'buffered' // before the first page: kept until load()
  | 'applied' // the feed changed
  | 'stale' // the store already had this version or a newer one
  | 'duplicate' // this seq was already applied
  | 'outside' // a post older than the loaded pages: kept aside until a page reaches it
  | 'gap'; // a change is missing before this one: the client must resync

/**
 * Pacing spaces notifications out while a stream is heavy: after one that
 * carried at least streamChanges changes, at streamRate changes a second or
 * more since the one before, the next waits until gapMs after it. At a
 * hundred posts a second a frame carries one or two changes (and a frame
 * late by a quarter second some twenty-five, at the same rate), so pacing
 * never starts; a node catching up sends thousands a second, and rendering
 * each frame's few dozen would replace every card on screen on every frame.
 */
export interface Pacing {
  streamChanges: number;
  streamRate: number;
  gapMs: number;
  now: () => number;
  later: (f: () => void, ms: number) => void;
}

/** streamPacing is the app's pacing: about eight renders a second during a burst. */
export const streamPacing: Pacing = {
  streamChanges: 24,
  streamRate: 600,
  gapMs: 120,
  now: () => performance.now(),
  later: (f, ms) => void setTimeout(f, ms),
};

/** FeedSnapshot is the immutable state React renders. */
export interface FeedSnapshot {
  posts: readonly Post[]; // newest first
  loaded: boolean; // the first page arrived
  hasMore: boolean; // older pages remain
  seq: number; // every change up to seq is applied
  epoch: string;
  syncing: boolean; // a sync replay is under way
  needsResync: boolean; // a gap was seen; live events are ignored until the next sync
}

/**
 * FeedStore is the client's copy of the feed: posts keyed by id, kept in
 * feed order, changed only by seq-numbered changes from the node.
 *
 * Guarantees: a change whose seq was applied is ignored; a post version the
 * store already has (or has seen deleted) is never applied again, so late or
 * replayed events cannot bring back old text or deleted posts; seq advances
 * only over an unbroken run of changes, and a live event that skips one
 * marks the store as needing a resync instead of being applied. During a sync
 * replay changes are applied by version alone, because the replay sends only
 * each post's latest state and its seqs have holes.
 *
 * Batching: every change is applied at once (seq, dedupe and gap detection
 * stay synchronous), but subscribers are told at most once per scheduled
 * flush (one animation frame by default), and the ordered list is rebuilt
 * only when a snapshot is read: a burst of 5,000 events costs one merge and
 * one render, not 5,000 array copies and renders.
 *
 * Pacing (optional, see Pacing): while changes stream in faster than a frame
 * can show them one by one, notifications are spaced further apart, so that
 * a burst re-renders the list a few times a second rather than on every
 * frame, each render carrying more changes.
 */
export class FeedStore {
  private byId = new Map<string, Post>();
  private list: Post[] = []; // the ordered list as of the last snapshot; never mutated once built
  private added: Post[] = []; // posts inserted since, unordered; merged into list when read
  private listStale = false; // list may hold removed posts or miss added ones
  private tombstones = new Map<string, number>(); // id -> version of the delete
  private outside = new Map<string, Post>(); // latest known state of posts past the loaded pages
  private boundary: Post | null = null; // the oldest post of the last page loaded
  private next = '';
  private seq = 0;
  private ahead = new Set<number>(); // seqs seen above seq, waiting for the ones before them
  private buffer: PostsEnvelope[] = [];
  private loaded = false;
  private syncing = false;
  private needsResync = false;
  private epoch = '';

  private dirty = false; // a change since the last emit
  private snap: FeedSnapshot = this.makeSnapshot();
  private snapStale = false; // a change since snap was built
  private notifyScheduled = false;
  private changes = 0; // changes since the last notification
  private last = { at: -Infinity, changes: 0, heavy: false }; // the last notification
  private readonly listeners = new Set<() => void>();

  /**
   * schedule runs the notification of subscribers; the default is once per
   * animation frame. pacing, if given, spaces them out during heavy streams.
   */
  constructor(
    private readonly schedule: Scheduler = frameScheduler,
    private readonly pacing: Pacing | null = null,
  ) {}

  /** subscribe is for useSyncExternalStore: listener runs at most once per flush. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /**
   * getSnapshot returns the current state: it always reflects every change
   * applied so far, and is the same object until the next change.
   */
  readonly getSnapshot = (): FeedSnapshot => {
    if (this.snapStale) {
      this.snapStale = false;
      this.snap = this.makeSnapshot();
    }
    return this.snap;
  };

  /** flush tells subscribers now about changes not yet announced. */
  readonly flush = (): void => {
    if (!this.notifyScheduled) return;
    this.notifyScheduled = false;
    const p = this.pacing;
    if (p) {
      const at = p.now();
      const heavy = this.changes >= p.streamChanges && this.changes * 1000 >= p.streamRate * (at - this.last.at);
      this.last = { at, changes: this.changes, heavy };
    }
    this.changes = 0;
    for (const l of [...this.listeners]) l();
  };

  // scheduled is what the scheduler runs: a flush, unless pacing holds it
  // back a little longer.
  private readonly scheduled = (): void => {
    const p = this.pacing;
    const wait = p && this.last.heavy ? this.last.at + p.gapMs - p.now() : 0;
    if (p && wait > 0) p.later(this.flush, wait);
    else this.flush();
  };

  /** get returns the post with id if it is loaded. */
  get(id: string): Post | undefined {
    return this.byId.get(id);
  }

  /** nextCursor is the cursor of the next older page ('' when none). */
  get nextCursor(): string {
    return this.next;
  }

  /**
   * load installs the first page, read at page.seq, and then applies the
   * events that arrived while it was being read, if they are newer.
   */
  load(page: Page, epoch: string): void {
    this.clearPosts();
    this.loaded = true;
    this.epoch = page.epoch ?? epoch;
    this.seq = page.seq;
    this.next = page.next;
    this.setBoundary(page);
    for (const p of page.posts) this.applyPost(p);
    const buffered = this.buffer;
    this.buffer = [];
    for (const env of buffered) {
      if (env.seq > page.seq) this.applyEvent(env);
    }
    this.emit();
  }

  /** appendPage adds an older page (from nextCursor). */
  appendPage(page: Page): void {
    this.next = page.next;
    this.setBoundary(page);
    for (const p of page.posts) this.applyPost(p);
    // changes seen earlier for posts this page has now reached
    for (const [id, p] of this.outside) {
      if (this.inside(p)) {
        this.outside.delete(id);
        this.applyPost(p);
      }
    }
    this.emit();
  }

  /**
   * beginSync starts a replay: until synced(), changes apply by version alone.
   * epoch is the node's, adopted if the store did not know one yet.
   */
  beginSync(epoch = ''): void {
    if (!this.epoch) this.epoch = epoch;
    this.syncing = true;
    this.needsResync = false;
    this.dirty = true;
    this.emit();
  }

  /** synced ends a replay: every change up to seq is now applied. */
  synced(seq: number): void {
    this.syncing = false;
    this.needsResync = false;
    if (seq > this.seq) this.seq = seq;
    for (const s of this.ahead) if (s <= this.seq) this.ahead.delete(s);
    this.advance();
    this.dirty = true;
    this.emit();
  }

  /** reset drops everything: the node's database changed (a new epoch). */
  reset(epoch: string): void {
    this.clearPosts();
    this.tombstones.clear();
    this.buffer = [];
    this.loaded = true; // the replay from 0 that follows is the whole feed
    this.epoch = epoch;
    this.seq = 0;
    this.next = '';
    this.needsResync = false;
    this.dirty = true;
    this.emit();
  }

  /** applyEvent applies one posts event from the live stream or a replay. */
  applyEvent(env: PostsEnvelope): ApplyResult {
    if (!this.loaded) {
      this.buffer.push(env);
      return 'buffered';
    }
    const s = env.seq;
    let result: ApplyResult;
    if (this.syncing) {
      if (s > this.seq) this.ahead.add(s);
      result = this.applyPost(env.data.post);
    } else if (s <= this.seq || this.ahead.has(s)) {
      result = 'duplicate';
    } else if (this.needsResync) {
      result = 'gap';
    } else if (s !== this.seq + 1) {
      this.needsResync = true;
      this.dirty = true;
      result = 'gap';
    } else {
      this.seq = s;
      this.advance();
      result = this.applyPost(env.data.post);
      this.dirty = true;
    }
    this.emit();
    return result;
  }

  /**
   * applyOwn applies the result of this client's own write, committed as
   * change seq. The node may or may not also send it as an event; either way
   * it counts once, and it may arrive before events with smaller seqs.
   */
  applyOwn(post: Post, seq: number): ApplyResult {
    if (!this.loaded) {
      const action = post.deleted ? 'delete' : post.version === 1 ? 'create' : 'update';
      this.buffer.push({ type: 'event', event: 'posts', seq, data: { action, post } });
      return 'buffered';
    }
    if (seq > this.seq && !this.ahead.has(seq)) {
      this.ahead.add(seq);
      if (!this.syncing) this.advance();
      this.dirty = true;
    }
    const result = this.applyPost(post);
    this.emit();
    return result;
  }

  /** merge applies a post read outside the stream (a conflict's current post, a Get) by version. */
  merge(post: Post): ApplyResult {
    if (!this.loaded) return 'buffered';
    const result = this.applyPost(post);
    this.emit();
    return result;
  }

  private applyPost(post: Post): ApplyResult {
    const tomb = this.tombstones.get(post.id);
    if (tomb !== undefined && post.version <= tomb) return 'stale';
    const cur = this.byId.get(post.id) ?? this.outside.get(post.id);
    if (cur && post.version <= cur.version) return 'stale';
    this.dirty = true;
    if (post.deleted) {
      this.tombstones.set(post.id, post.version);
      this.outside.delete(post.id);
      this.remove(post.id);
      return 'applied';
    }
    if (this.byId.has(post.id)) {
      this.remove(post.id);
      this.insert(post);
      return 'applied';
    }
    if (!this.inside(post)) {
      this.outside.set(post.id, post);
      return 'outside';
    }
    this.outside.delete(post.id);
    this.insert(post);
    return 'applied';
  }

  // inside tells whether post falls within the pages loaded so far.
  private inside(post: Post): boolean {
    if (this.next === '' || this.boundary === null) return true;
    return comparePosts(post, this.boundary) <= 0;
  }

  private setBoundary(page: Page): void {
    const last = page.posts[page.posts.length - 1];
    if (last) this.boundary = last;
  }

  private advance(): void {
    while (this.ahead.has(this.seq + 1)) {
      this.seq++;
      this.ahead.delete(this.seq);
    }
  }

  private insert(post: Post): void {
    this.added.push(post);
    this.listStale = true;
    this.byId.set(post.id, post);
  }

  private remove(id: string): void {
    if (this.byId.delete(id)) this.listStale = true;
  }

  private clearPosts(): void {
    this.byId.clear();
    this.list = [];
    this.added = [];
    this.listStale = false;
    this.outside.clear();
    this.ahead.clear();
    this.boundary = null;
    this.dirty = true;
  }

  // orderedList brings list up to date: the posts still current (by
  // identity: an update replaces the object), merged with those added since.
  private orderedList(): Post[] {
    if (!this.listStale) return this.list;
    this.listStale = false;
    const current = (p: Post) => this.byId.get(p.id) === p;
    const kept = this.list.filter(current);
    const added = this.added.filter(current).sort(comparePosts);
    this.added = [];
    if (added.length === 0) return (this.list = kept);
    const out = new Array<Post>(kept.length + added.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < kept.length && j < added.length) {
      out[k++] = comparePosts(kept[i]!, added[j]!) <= 0 ? kept[i++]! : added[j++]!;
    }
    while (i < kept.length) out[k++] = kept[i++]!;
    while (j < added.length) out[k++] = added[j++]!;
    return (this.list = out);
  }

  private makeSnapshot(): FeedSnapshot {
    return {
      posts: this.orderedList(),
      loaded: this.loaded,
      hasMore: this.next !== '',
      seq: this.seq,
      epoch: this.epoch,
      syncing: this.syncing,
      needsResync: this.needsResync,
    };
  }

  private emit(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.snapStale = true;
    this.changes++;
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    this.schedule(this.scheduled);
  }
}
