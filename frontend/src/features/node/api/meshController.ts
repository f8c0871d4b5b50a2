import { Observable } from '../../../lib/observable';
import { toApiError } from '../../../transport/errors';
import type { ApiError, FollowInfo, MeshSettings, NearbyNode, Transport, Unsubscribe } from '../../../transport/types';

/** How often the nodes section reads follows and nearby nodes while it is on screen (ms). */
export const pollMs = 2_000;
/** How often a poll also reads the settings, which only change on a user's action (ms). */
export const settingsMs = 20_000;
/** Least time between two reads of the follows for a post whose node has no name here yet (ms). */
export const unknownOriginMs = 5_000;

/** MeshState is this node's view of the mesh: whom it follows, whom it sees nearby, its settings. */
export interface MeshState {
  follows: readonly FollowInfo[];
  nearby: readonly NearbyNode[];
  settings: MeshSettings | null; // null until read, or when the node has no settings
  loaded: boolean; // the follows were read at least once
  error: ApiError | null; // the last read failed
}

/** MeshDeps are the timers and the page's visibility; tests pass their own. */
export interface MeshDeps {
  setTimeout: (f: () => void, ms: number) => unknown;
  clearTimeout: (t: unknown) => void;
  now: () => number;
  /** visible tells whether the page is shown (not a background tab or a minimised window). */
  visible: () => boolean;
  /** onVisibility calls f whenever the page is shown or hidden. */
  onVisibility: (f: () => void) => Unsubscribe;
}

function browserDeps(): MeshDeps {
  return {
    setTimeout: (f, ms) => setTimeout(f, ms),
    clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
    now: () => Date.now(),
    visible: () => typeof document === 'undefined' || document.visibilityState !== 'hidden',
    onVisibility: (f) => {
      if (typeof document === 'undefined') return () => {};
      document.addEventListener('visibilitychange', f);
      return () => document.removeEventListener('visibilitychange', f);
    },
  };
}

/**
 * MeshController keeps the follows, nearby nodes and mesh settings. It reads
 * them on start, every pollMs while a watcher (the nodes section on screen)
 * holds it and the page is visible, and at once after each change made here.
 * An idle page with the section out of view makes no requests.
 */
export class MeshController {
  readonly state = new Observable<MeshState>({
    follows: [],
    nearby: [],
    settings: null,
    loaded: false,
    error: null,
  });

  private readonly d: MeshDeps;
  private watchers = 0;
  private timer: unknown = undefined;
  private reading: Promise<void> | null = null;
  private again = false; // a read was asked for while one ran
  private lastUnknownRead = -Infinity;
  private lastSettingsRead = -Infinity;
  private settingsStale = true; // read them with the next read: first, or after a change
  private offVisibility: Unsubscribe | null = null;

  constructor(
    private readonly transport: Transport,
    deps: Partial<MeshDeps> = {},
  ) {
    this.d = { ...browserDeps(), ...deps };
  }

  /** refresh reads follows, nearby nodes and settings; concurrent calls share one read and one more after it. */
  refresh(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = (async () => {
      do {
        this.again = false;
        await this.read();
      } while (this.again);
    })().finally(() => {
      this.reading = null;
      this.schedule();
    });
    return this.reading;
  }

  private async read(): Promise<void> {
    const now = this.d.now();
    const withSettings = this.settingsStale || now - this.lastSettingsRead >= settingsMs;
    if (withSettings) {
      this.settingsStale = false;
      this.lastSettingsRead = now;
    }
    const [follows, nearby, settings] = await Promise.allSettled([
      this.transport.follows(),
      this.transport.nearby(),
      withSettings ? this.transport.settings() : Promise.reject(new Error('not read this time')),
    ]);
    const s = this.state.get();
    const next: MeshState = { ...s };
    if (follows.status === 'fulfilled') {
      next.follows = same(s.follows, follows.value) ? s.follows : follows.value;
      next.loaded = true;
    }
    if (nearby.status === 'fulfilled') next.nearby = same(s.nearby, nearby.value) ? s.nearby : nearby.value;
    if (settings.status === 'fulfilled') {
      next.settings = same(s.settings, settings.value) ? s.settings : settings.value;
    }
    // nearby and settings may be missing on an older node: only the follows count as the error
    next.error = follows.status === 'rejected' ? toApiError(follows.reason) : null;
    if (Object.keys(next).some((k) => next[k as keyof MeshState] !== s[k as keyof MeshState])) this.state.set(next);
  }

  /**
   * watch polls while the returned function has not been called and the
   * page is visible; a page shown again reads at once.
   */
  watch = (): Unsubscribe => {
    this.watchers++;
    if (this.watchers === 1) {
      this.settingsStale = true;
      this.offVisibility = this.d.onVisibility(() => {
        if (this.d.visible()) void this.refresh();
        else this.cancel();
      });
      void this.refresh();
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.watchers--;
      if (this.watchers === 0) {
        this.offVisibility?.();
        this.offVisibility = null;
        this.cancel();
      }
    };
  };

  /** polling tells whether a next read is scheduled (for tests). */
  get polling(): boolean {
    return this.timer !== undefined;
  }

  private schedule(): void {
    this.cancel();
    if (this.watchers === 0 || !this.d.visible()) return;
    this.timer = this.d.setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, pollMs);
  }

  private cancel(): void {
    if (this.timer === undefined) return;
    this.d.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * noteOrigins reads the follows again when a post comes from a node this
   * page has no name for (just followed, or renamed), at most every
   * unknownOriginMs; known names it for every post.
   */
  noteOrigins(unknown: boolean): void {
    if (!unknown || this.reading) return;
    const now = this.d.now();
    if (now - this.lastUnknownRead < unknownOriginMs) return;
    this.lastUnknownRead = now;
    void this.refresh();
  }

  // ---- changes; each rejects with an ApiError and reads the state again ----

  /** follow follows the node at url (host:port or a URL). */
  async follow(url: string): Promise<FollowInfo> {
    try {
      return await this.transport.follow(url.trim());
    } catch (e) {
      throw toApiError(e);
    } finally {
      void this.refresh();
    }
  }

  /** unfollow stops following node; the node then drops its posts. */
  async unfollow(node: string): Promise<void> {
    try {
      await this.transport.unfollow(node);
    } catch (e) {
      throw toApiError(e);
    } finally {
      void this.refresh();
    }
  }

  /** setAutoFollow turns following every discovered node on or off. */
  async setAutoFollow(on: boolean): Promise<void> {
    try {
      const s = await this.transport.setSettings({ ...this.state.get().settings, autoFollow: on });
      this.state.update((st) => ({ ...st, settings: s }));
    } catch (e) {
      throw toApiError(e);
    } finally {
      this.settingsStale = true;
      void this.refresh();
    }
  }
}

// same compares two JSON values: a poll that read what is shown changes nothing.
function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
