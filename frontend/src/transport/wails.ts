// The desktop transport: Wails v2 bindings (window.go.app.*) and runtime
// events (window.runtime.EventsOn). The globals are typed here and used
// nowhere else; the generated wailsjs/ files are not needed. The types are
// held to the Go services by wails.contract.check.ts.
import { toApiError } from './errors';
import type {
  Envelope,
  FollowInfo,
  Hello,
  Info,
  LiveListener,
  MeshSettings,
  NearbyNode,
  NewPost,
  NodeIdentity,
  Page,
  Peer,
  Post,
  PostPatch,
  Transport,
  Unsubscribe,
} from './types';

/** SyncPage is one page of Posts.Sync. */
export interface SyncPage {
  epoch: string;
  reset: boolean; // the epoch differed: events replay from 0
  events: unknown[]; // posts envelopes, but []json.RawMessage in Go: each is checked
  seq: number;
  more: boolean; // call again with the last event's seq
}

/** WailsPosts is the bound app.Posts service. */
export interface WailsPosts {
  List(before: string, limit: number): Promise<Page>;
  ListAfter(after: string, limit: number): Promise<Page>;
  Get(id: string): Promise<Post>;
  Create(input: NewPost): Promise<Post>;
  Update(id: string, patch: PostPatch): Promise<Post>;
  Delete(id: string, version: number): Promise<Post>;
  Sync(since: number, epoch: string): Promise<SyncPage>;
}

/** WailsNode is the bound app.Node service. */
export interface WailsNode {
  Info(): Promise<Info>;
  Peers(): Promise<Peer[]>;
  Token(): Promise<string>;
  RotateToken(): Promise<string>;
  SetName(name: string): Promise<NodeIdentity>;
  Follows(): Promise<FollowInfo[]>;
  Follow(url: string): Promise<FollowInfo>;
  Unfollow(node: string): Promise<void>;
  Nearby(): Promise<NearbyNode[]>;
  Settings(): Promise<MeshSettings>;
  SetSettings(s: MeshSettings): Promise<MeshSettings>;
}

/** WailsRuntime is the part of window.runtime lanfeed uses. */
export interface WailsRuntime {
  EventsOn(event: string, callback: (...data: unknown[]) => void): () => void;
}

declare global {
  interface Window {
    go?: { app?: { Posts: WailsPosts; Node: WailsNode } };
    runtime?: WailsRuntime;
  }
}

/** isDesktop tells whether the page runs inside the Wails window. */
export function isDesktop(w: Window = window): boolean {
  return Boolean(w.go?.app && w.runtime);
}

// envelope accepts an event as an object or as its JSON text.
function envelope(x: unknown): Envelope | null {
  let v = x;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return null;
    }
  }
  if (typeof v !== 'object' || v === null) return null;
  return v as Envelope;
}

// call runs a binding and turns its rejection into an ApiError.
async function call<T>(p: () => Promise<T>): Promise<T> {
  try {
    return await p();
  } catch (e) {
    throw toApiError(e);
  }
}

/**
 * createWailsTransport talks to the Go app through its bindings. Events come
 * from the Go process itself, so the stream is always "live"; the desktop can
 * always write.
 */
export function createWailsTransport(w: Window = window): Transport {
  const app = w.go?.app;
  const rt = w.runtime;
  if (!app || !rt) throw new Error('not running inside the Wails window');
  const { Posts, Node } = app;

  let listener: LiveListener | null = null;
  let generation = 0; // bumps on every connect, resync and disconnect; stale work stops

  async function open(): Promise<void> {
    const gen = generation;
    try {
      const info = await Node.Info();
      if (gen !== generation || !listener) return;
      const hello: Hello = { epoch: info.epoch, seq: info.seq, node: info.node, canWrite: true };
      listener.status({ state: 'live' });
      listener.open(hello);
    } catch {
      if (gen !== generation || !listener) return;
      // the bindings only fail while the app is starting or quitting
      const retryAt = Date.now() + 1000;
      listener.status({ state: 'reconnecting', retryAt });
      setTimeout(() => {
        if (gen === generation) void open();
      }, 1000);
    }
  }

  async function sync(since: number, epoch: string): Promise<void> {
    const gen = generation;
    let from = since;
    let ep = epoch;
    try {
      for (;;) {
        const page = await Posts.Sync(from, ep);
        if (gen !== generation || !listener) return;
        if (page.reset) listener.reset(page.epoch);
        ep = page.epoch;
        for (const x of page.events ?? []) {
          const env = envelope(x);
          if (env?.event === 'posts') {
            listener.posts(env);
            from = env.seq;
          }
        }
        if (!page.more) {
          listener.synced(page.seq);
          return;
        }
        if (!page.events?.length) from = page.seq; // a page of nothing cannot be resumed otherwise
      }
    } catch {
      if (gen !== generation || !listener) return;
      setTimeout(() => {
        if (gen === generation) void open();
      }, 1000);
    }
  }

  // a page whose posts Go sent as null (an empty slice) holds an empty array
  const withPosts = (p: Page): Page => ({ ...p, posts: p.posts ?? [] });

  async function write(f: () => Promise<Post>): Promise<Post> {
    const post = await call(f);
    listener?.ack(post, post.seq);
    return post;
  }

  return {
    kind: 'desktop',

    listPosts: (before, limit) => call(() => Posts.List(before, limit)).then(withPosts),
    listNewer: (after, limit) => call(() => Posts.ListAfter(after, limit)).then(withPosts),
    getPost: (id) => call(() => Posts.Get(id)),
    createPost: (input) => write(() => Posts.Create(input)),
    updatePost: (id, patch) => write(() => Posts.Update(id, patch)),
    deletePost: (id, version) => write(() => Posts.Delete(id, version)),

    info: () => call(() => Node.Info()),
    peers: () => call(() => Node.Peers()).then((p) => p ?? []),

    follows: () => call(() => Node.Follows()).then((f) => f ?? []),
    follow: (url) => call(() => Node.Follow(url)),
    unfollow: (node) => call(() => Node.Unfollow(node)),
    nearby: () => call(() => Node.Nearby()).then((n) => n ?? []),
    settings: () => call(() => Node.Settings()),
    setSettings: (s) => call(() => Node.SetSettings(s)),

    connect(l: LiveListener): Unsubscribe {
      listener = l;
      generation++;
      const offPosts = rt.EventsOn('posts', (x) => {
        const env = envelope(x);
        if (env?.event === 'posts') listener?.posts(env);
      });
      const offPeers = rt.EventsOn('peers', (x) => {
        const env = envelope(x);
        if (env?.event === 'peers') listener?.peers(env);
      });
      // The app dropped events the window could not take in time (presence
      // included): reopen as after a reconnect, which reloads the node's
      // info and peers and syncs the feed from its seq.
      const offResync = rt.EventsOn('resync', () => {
        generation++;
        void open();
      });
      l.status({ state: 'connecting' });
      void open();
      return () => {
        generation++;
        listener = null;
        offPosts();
        offPeers();
        offResync();
      };
    },
    sync: (since, epoch) => void sync(since, epoch),
    resync() {
      generation++;
      void open();
    },

    token: () => call(() => Node.Token()),
    rotateToken: () => call(() => Node.RotateToken()),
    name: () => call(() => Node.Info()).then((i) => i.node.name),
    setName: (name) => call(() => Node.SetName(name)).then((n) => n.name),
  };
}
