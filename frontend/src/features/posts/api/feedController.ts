import { backoffDelay } from '../../../lib/backoff';
import { frameScheduler } from '../../../lib/frame';
import { Observable } from '../../../lib/observable';
import { toApiError } from '../../../transport/errors';
import type {
  ApiError,
  Hello,
  NewPost,
  Post,
  PostPatch,
  PostsEnvelope,
  Transport,
} from '../../../transport/types';
import { FeedStore, streamPacing } from './feedStore';

/** Page size of the feed, first page and older pages alike. */
export const pageSize = 50;

/** FeedStatus is what the feed knows about itself besides its posts. */
export interface FeedStatus {
  canWrite: boolean;
  loadError: ApiError | null; // the first page could not be read
  loadingMore: boolean;
  moreError: ApiError | null;
  loadingNewer: boolean; // a newer page (or the first page again) is being read
  newerError: ApiError | null;
}

type Timer = ReturnType<typeof setTimeout>;

/**
 * FeedController keeps a FeedStore in step with the node.
 *
 * Start-up: the transport's live stream is connected first, so events that
 * arrive while the first page is read are buffered by the store; the page's
 * seq is the base; then the controller asks the transport to sync from the
 * store's seq, which closes any hole between the page and the stream. Every
 * (re)connect syncs again from the last applied seq; a gap asks the transport
 * to resync.
 */
export class FeedController {
  readonly store = new FeedStore(frameScheduler, streamPacing);
  readonly status = new Observable<FeedStatus>({
    canWrite: false,
    loadError: null,
    loadingMore: false,
    moreError: null,
    loadingNewer: false,
    newerError: null,
  });

  private hello: Hello | null = null;
  private loadingFirst = false;
  private loadingHead = false;
  private resyncRequested = false;
  private retryTimer: Timer | undefined;
  private loadAttempts = 0;
  private stopped = false;

  constructor(private readonly transport: Transport) {}

  /** start reads the first page; call it after connecting the live stream. */
  start(): void {
    this.stopped = false;
    void this.loadFirstPage();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
  }

  // ---- LiveListener parts, wired by the session ----

  onOpen(hello: Hello): void {
    this.hello = hello;
    this.setStatus({ canWrite: hello.canWrite });
    this.resyncRequested = false;
    if (this.store.getSnapshot().loaded) this.sync();
    else if (!this.loadingFirst) void this.loadFirstPage();
  }

  onPosts(env: PostsEnvelope): void {
    if (this.store.applyEvent(env) === 'gap' && !this.resyncRequested) {
      this.resyncRequested = true;
      this.transport.resync();
    }
  }

  onReset(epoch: string): void {
    this.store.reset(epoch);
  }

  onSynced(seq: number): void {
    this.store.synced(seq);
  }

  onAck(post: Post, seq: number): void {
    this.store.applyOwn(post, seq);
  }

  // ---- reads ----

  /** loadMore reads the next older page, once at a time. */
  async loadMore(): Promise<void> {
    const cursor = this.store.nextCursor;
    if (!cursor || this.status.get().loadingMore) return;
    this.setStatus({ loadingMore: true, moreError: null });
    try {
      const page = await this.transport.listPosts(cursor, pageSize);
      // a reset while the page was read makes the cursor meaningless
      if (this.store.nextCursor === cursor) this.store.appendPage(page);
      this.setStatus({ loadingMore: false });
    } catch (e) {
      this.setStatus({ loadingMore: false, moreError: toApiError(e) });
    }
  }

  /** loadNewer reads the next newer page, once at a time, when the top of the feed was trimmed. */
  async loadNewer(): Promise<void> {
    const cursor = this.store.prevCursor;
    if (!cursor || this.status.get().loadingNewer) return;
    this.setStatus({ loadingNewer: true, newerError: null });
    this.store.beginNewer();
    try {
      const page = await this.transport.listNewer(cursor, pageSize);
      // a trim, a reset or the head read again while the page was read makes the cursor meaningless
      if (this.store.prevCursor === cursor) this.store.prependPage(page);
      this.setStatus({ loadingNewer: false });
    } catch (e) {
      this.setStatus({ loadingNewer: false, newerError: toApiError(e) });
    } finally {
      this.store.endNewer();
    }
  }

  /**
   * loadHead reads the first page again when the top of the feed was
   * trimmed ("back to the top"): one read instead of a newer page at a time.
   */
  async loadHead(): Promise<void> {
    if (!this.store.prevCursor || this.loadingHead) return;
    this.loadingHead = true;
    this.store.beginNewer();
    try {
      const page = await this.transport.listPosts('', pageSize);
      if (this.store.prevCursor) this.store.loadHead(page);
      this.setStatus({ newerError: null });
    } catch (e) {
      this.setStatus({ newerError: toApiError(e) });
    } finally {
      this.loadingHead = false;
      this.store.endNewer();
    }
  }

  // ---- writes: the transport reports each result through onAck too ----

  create(input: NewPost): Promise<Post> {
    return this.write(() => this.transport.createPost(input));
  }

  update(id: string, patch: PostPatch): Promise<Post> {
    return this.write(() => this.transport.updatePost(id, patch));
  }

  remove(id: string, version: number): Promise<Post> {
    return this.write(() => this.transport.deletePost(id, version));
  }

  private async write(f: () => Promise<Post>): Promise<Post> {
    try {
      return await f();
    } catch (e) {
      const err = toApiError(e);
      // a conflict carries the current post: show it, whatever the stream says
      if (err.post) this.store.merge(err.post);
      throw err;
    }
  }

  private sync(): void {
    const snap = this.store.getSnapshot();
    const epoch = snap.epoch || this.hello?.epoch || '';
    this.store.beginSync(epoch);
    this.transport.sync(snap.seq, epoch);
  }

  private async loadFirstPage(): Promise<void> {
    if (this.loadingFirst || this.store.getSnapshot().loaded) return;
    this.loadingFirst = true;
    clearTimeout(this.retryTimer);
    try {
      const page = await this.transport.listPosts('', pageSize);
      if (this.stopped) return;
      this.store.load(page, this.hello?.epoch ?? '');
      this.loadAttempts = 0;
      this.setStatus({ loadError: null });
      if (this.hello) this.sync();
    } catch (e) {
      if (this.stopped) return;
      this.setStatus({ loadError: toApiError(e) });
      this.retryTimer = setTimeout(() => void this.loadFirstPage(), backoffDelay(this.loadAttempts++));
    } finally {
      this.loadingFirst = false;
    }
  }

  private setStatus(patch: Partial<FeedStatus>): void {
    this.status.update((s) => ({ ...s, ...patch }));
  }
}
