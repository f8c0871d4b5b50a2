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

/** trimBeyond posts past what the reader sees, at either end, make trim() drop pages. */
export const trimBeyond = 600;
/** keepBeyond posts past what the reader sees, at least, are kept by trim(). */
export const keepBeyond = 300;

// Cut is a position in the feed the node gave a cursor for (a page's first or last post).
interface Cut {
  at: Post;
  cursor: string;
}

// searchFrom is the index of the first post of list (newest first) that
// comes after at in feed order, or is at itself unless strict.
function searchFrom(list: readonly Post[], at: Post, strict: boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = comparePosts(list[mid]!, at);
    if (c < 0 || (strict && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// atOrOlder is the index of the first post of list at or older than at.
const atOrOlder = (list: readonly Post[], at: Post) => searchFrom(list, at, false);
// olderThan is the index of the first post of list strictly older than at.
const olderThan = (list: readonly Post[], at: Post) => searchFrom(list, at, true);

/** What became of one change given to the store. */
export type ApplyResult =
  | 'buffered' // before the first page: kept until load()
  | 'applied' // the feed changed
  | 'stale' // the store already had this version or a newer one
  | 'duplicate' // this seq was already applied
  | 'outside' // a post older than the loaded pages: kept aside until a page reaches it
  | 'above' // a post newer than the kept pages (the top was trimmed): the page read later has it
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
  hasNewer: boolean; // newer pages were trimmed (or never read): the list does not start at the head
  above: number; // posts newer than the first kept one, as far as the store knows (exact at the head: 0)
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
 *
 * Window: the store keeps a contiguous run of the feed, from a bottom
 * boundary (the oldest post of the last older page; nextCursor reads on
 * below it) up to a top boundary (prevCursor reads on above it; '' when the
 * run starts at the head). trim() drops whole pages far from what the reader
 * sees, cutting only at positions the node gave a cursor for (a page's first
 * and last post), so the pages read later join the run exactly. A change to a
 * post below the run is kept aside until a page reaches it; one above the run
 * is dropped (the page read later has its current state), except while a
 * newer page is being read (beginNewer to endNewer): then its latest state is
 * kept and applied, by version, if that page brings the post into the run.
 * seq, dedupe and gap handling do not depend on the window: every change
 * counts, kept or not.
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
  private top: Post | null = null; // the newest post kept, while prev !== ''
  private prev = ''; // cursor of the next newer page; '' at the head
  private above = 0;
  private cuts: Cut[] = []; // positions within the run that have a cursor, newest first
  private trimTop = false; // the node answers after= (its pages carry prev), so the top may be trimmed
  private newerLoads = 0; // newer pages being read
  private kept = new Map<string, Post>(); // latest state of posts above the run seen while newerLoads > 0
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
  private last = { at: -Infinity, heavy: false }; // the last notification: when, and whether it was heavy
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
      this.last = { at, heavy };
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

  /** prevCursor is the cursor of the next newer page ('' when the kept run starts at the head). */
  get prevCursor(): string {
    return this.prev;
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
    this.trimTop = page.prev !== undefined;
    this.setBoundary(page);
    this.addCuts(page);
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
    this.addCuts(page);
    for (const p of page.posts) this.applyPost(p);
    this.applyReached();
    this.emit();
  }

  /**
   * beginNewer tells that a newer page (prevCursor's, or the first page
   * again) is being read: until the matching endNewer, changes to posts above
   * the run are kept, so that none that the page was read too early to hold
   * is lost when it lands.
   */
  beginNewer(): void {
    this.newerLoads++;
  }

  /** endNewer ends what beginNewer began, whether its page landed or not. */
  endNewer(): void {
    this.newerLoads = Math.max(0, this.newerLoads - 1);
    if (this.newerLoads === 0) this.kept.clear();
  }

  /** prependPage adds a newer page (from prevCursor): the run grows up to its newest post, or to the head. */
  prependPage(page: Page): void {
    const first = page.posts[0];
    this.prev = first && page.prev ? page.prev : '';
    this.top = this.prev ? first! : null;
    this.addCuts(page);
    const before = this.byId.size;
    for (const p of page.posts) this.applyPost(p);
    this.applyKept();
    this.above = this.prev ? Math.max(0, this.above - (this.byId.size - before)) : 0;
    this.dirty = true;
    this.emit();
  }

  /**
   * loadHead installs the first page read again after the top was trimmed:
   * the run becomes that page (and whatever of the old run joins it), seq
   * untouched; posts older than the page's last are dropped.
   */
  loadHead(page: Page): void {
    this.prev = '';
    this.top = null;
    this.above = 0;
    this.next = page.next;
    this.setBoundary(page);
    if (this.next !== '' && this.boundary) this.dropOlder(this.boundary);
    this.addCuts(page);
    for (const p of page.posts) this.applyPost(p);
    this.applyKept();
    this.applyReached();
    this.dirty = true;
    this.emit();
  }

  /**
   * trim drops whole pages far from the reader: first and last are the ids
   * of the first and last post the list renders, keep the ids that must stay
   * (a focused card, one being edited). More than trimBeyond posts past
   * either end are cut back to about keepBeyond, at the nearest position the
   * node gave a cursor for. It tells whether anything was dropped.
   */
  trim(first: string, last: string, keep: Iterable<string> = []): boolean {
    const list = this.orderedList();
    const from = this.byId.get(first);
    const to = this.byId.get(last);
    if (!from || !to) return false;
    let lo = atOrOlder(list, from);
    let hi = atOrOlder(list, to);
    if (hi < lo) [lo, hi] = [hi, lo];
    for (const id of keep) {
      const p = this.byId.get(id);
      if (!p) continue;
      const i = atOrOlder(list, p);
      lo = Math.min(lo, i);
      hi = Math.max(hi, i);
    }
    let dropped = false;
    if (this.trimTop && lo > trimBeyond) {
      // the cut that leaves the fewest posts, but at least keepBeyond, above lo
      let best: Cut | null = null;
      let bestAt = 0;
      for (const c of this.cuts) {
        const j = atOrOlder(list, c.at);
        if (j <= lo - keepBeyond && j > bestAt) {
          best = c;
          bestAt = j;
        }
      }
      if (best) {
        this.dropNewer(best, bestAt);
        dropped = true;
      }
    }
    if (list.length - 1 - hi > trimBeyond) {
      const cur = this.orderedList();
      const h = atOrOlder(cur, list[hi]!);
      // the cut that leaves the fewest posts, but at least keepBeyond, below hi
      let best: Cut | null = null;
      let bestEnd = cur.length;
      for (const c of this.cuts) {
        const k = olderThan(cur, c.at);
        if (k >= h + 1 + keepBeyond && k < bestEnd) {
          best = c;
          bestEnd = k;
        }
      }
      if (best) {
        this.boundary = best.at;
        this.next = best.cursor;
        this.dropOlder(best.at);
        dropped = true;
      }
    }
    if (dropped) {
      this.dirty = true;
      this.emit();
    }
    return dropped;
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
    this.trimTop = false; // the replay that follows has no cursors
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
    const cur = this.byId.get(post.id) ?? this.outside.get(post.id) ?? this.kept.get(post.id);
    if (cur && post.version <= cur.version) return 'stale';
    this.dirty = true;
    if (post.deleted) {
      this.tombstones.set(post.id, post.version);
      this.outside.delete(post.id);
      this.kept.delete(post.id);
      if (!this.byId.has(post.id) && this.isAbove(post)) this.above = Math.max(0, this.above - 1);
      this.remove(post.id);
      return 'applied';
    }
    if (this.byId.has(post.id)) {
      this.remove(post.id);
      this.insert(post);
      return 'applied';
    }
    if (this.isAbove(post)) {
      if (!cur && post.version === 1) this.above++;
      if (this.newerLoads > 0) this.kept.set(post.id, post);
      return 'above';
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

  // isAbove tells whether post is newer than the run kept (only once the top was trimmed).
  private isAbove(post: Post): boolean {
    return this.top !== null && comparePosts(post, this.top) < 0;
  }

  private setBoundary(page: Page): void {
    const last = page.posts[page.posts.length - 1];
    if (last) this.boundary = last;
  }

  // addCuts notes the positions page gave cursors for: next is its last post's, prev its first's.
  private addCuts(page: Page): void {
    const first = page.posts[0];
    const last = page.posts[page.posts.length - 1];
    if (last && page.next) this.addCut({ at: last, cursor: page.next });
    if (first && page.prev) this.addCut({ at: first, cursor: page.prev });
  }

  private addCut(c: Cut): void {
    if (this.cuts.some((x) => comparePosts(x.at, c.at) === 0)) return;
    this.cuts.push(c);
    this.cuts.sort((a, b) => comparePosts(a.at, b.at));
  }

  // applyReached applies the changes kept aside for posts the run now reaches.
  private applyReached(): void {
    for (const [id, p] of this.outside) {
      if (this.inside(p)) {
        this.outside.delete(id);
        this.applyPost(p);
      }
    }
  }

  // applyKept applies the changes kept during newer reads to posts the run now reaches.
  private applyKept(): void {
    for (const [id, p] of this.kept) {
      if (!this.isAbove(p)) {
        this.kept.delete(id);
        this.applyPost(p);
      }
    }
  }

  // dropNewer makes cut the top of the run: the j posts newer than it go.
  private dropNewer(cut: Cut, j: number): void {
    const list = this.orderedList();
    for (let i = 0; i < j; i++) this.byId.delete(list[i]!.id);
    this.list = list.slice(j);
    this.above += j;
    this.top = cut.at;
    this.prev = cut.cursor;
    this.cuts = this.cuts.filter((c) => comparePosts(c.at, cut.at) >= 0);
  }

  // dropOlder drops the posts older than at (the run's new bottom).
  private dropOlder(at: Post): void {
    const list = this.orderedList();
    const k = olderThan(list, at);
    for (let i = k; i < list.length; i++) this.byId.delete(list[i]!.id);
    this.list = list.slice(0, k);
    this.cuts = this.cuts.filter((c) => comparePosts(c.at, at) <= 0);
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
    this.kept.clear();
    this.ahead.clear();
    this.boundary = null;
    this.top = null;
    this.prev = '';
    this.above = 0;
    this.cuts = [];
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
      hasNewer: this.prev !== '',
      above: this.above,
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
