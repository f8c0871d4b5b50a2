// The wire types of lanfeed protocol v1 (docs/PROTOCOL.md) and the Transport
// interface: the one boundary between the UI and the node. Everything above
// this folder talks to a Transport; only wails.ts touches window.go and
// window.runtime, and only web/ touches fetch and WebSocket.

/** Post is one entry of the feed, as the node sends it. */
export interface Post {
  id: string; // UUIDv7: sorts by creation time
  title: string;
  body: string;
  author: string;
  origin: string; // id of the node that owns the post; only that node can change it
  createdAt: string; // RFC 3339 UTC, exactly 3 fraction digits: compares as a string
  updatedAt: string;
  version: number; // 1 on create, +1 per update or delete
  deleted: boolean; // a tombstone: title and body are empty
  seq: number; // database-wide sequence number of the post's last change
}

/** Page is one page of the feed, newest first. */
export interface Page {
  posts: Post[];
  next: string; // cursor of the next (older) page; '' at the end
  // cursor of the next newer page; '' when this page reaches the head. A
  // node older than GET /api/posts?after= sends none: the client then never
  // trims the top of its feed.
  prev: string;
  seq: number; // the node's seq at the snapshot the page was read from
  epoch?: string; // not in the contract yet; used when the node sends it
}

export interface NewPost {
  title: string;
  body: string;
  author?: string; // empty: the node or peer display name
}

export interface PostPatch {
  version: number; // the version the writer last saw
  title?: string;
  body?: string;
}

export interface NodeIdentity {
  id: string;
  name: string;
}

export interface Peer {
  id: string;
  name: string;
  since: string;
}

/** FollowState is how replicating a followed node goes. */
export type FollowState = 'connecting' | 'catching_up' | 'live' | 'offline' | 'refused';

/** FollowInfo is a followed node: GET /api/follows or Node.Follows(). */
export interface FollowInfo {
  node: string; // the followed node's id
  name: string;
  url: string;
  state: string; // a FollowState; string so that a newer node's states still decode
  seq: number; // how far its log is applied here
  nodeSeq: number; // its seq at its last hello: catching up is seq of nodeSeq
  since: string; // when state began
  reason?: string; // why it is offline or refused
}

/** NearbyNode is a node discovered on the LAN and not followed: GET /api/nearby or Node.Nearby(). */
export interface NearbyNode {
  node: string; // its id, as it announces it
  name: string;
  url: string; // the address to follow it at
  urls: string[]; // every address it was seen at
  seen: string; // when it was last heard
}

/** MeshSettings are the node's mesh settings: GET and PUT /api/settings or Node.Settings(). */
export interface MeshSettings {
  autoFollow: boolean; // follow every node discovered on the LAN
}

/** Info describes the node: GET /api/info or Node.Info(). */
export interface Info {
  proto: number;
  version: string; // the lanfeed build serving, as `lanfeedd version` prints it
  node: NodeIdentity;
  epoch: string;
  seq: number;
  peers: number;
  urls: string[];
  listenError?: string; // desktop only: why the LAN server is not running
}

export type PostAction = 'create' | 'update' | 'delete';

/** PostsEnvelope is a change of one post, the same bytes for every consumer. */
export interface PostsEnvelope {
  type: 'event';
  event: 'posts';
  seq: number;
  data: { action: PostAction; post: Post };
}

/** PeersEnvelope tells that a LAN peer joined or left. */
export interface PeersEnvelope {
  type: 'event';
  event: 'peers';
  data: { action: 'join' | 'leave'; peer: Peer; count: number };
}

export type Envelope = PostsEnvelope | PeersEnvelope;

/** The server's error vocabulary, plus two codes the client makes itself. */
export type ErrorCode =
  | 'invalid'
  | 'not_found'
  | 'conflict'
  | 'read_only' // the post belongs to another node; the message names it
  | 'unauthorized'
  | 'bad_request'
  | 'rate_limited'
  | 'too_large'
  | 'internal'
  | 'offline' // client: no connection to the node, the request was not sent
  | 'timeout'; // client: no answer in time; the write may or may not have happened

/** ApiError is the error every transport rejects with. */
export interface ApiError {
  code: ErrorCode;
  message: string;
  field?: string;
  post?: Post; // with conflict: the current post
}

/** Hello is what the client learns each time the live stream (re)opens. */
export interface Hello {
  epoch: string;
  seq: number;
  node: NodeIdentity;
  canWrite: boolean;
  peer?: Peer; // this client as a LAN peer (browser only)
}

/** ConnState is shown in the UI at all times. */
export type ConnState = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface ConnStatus {
  state: ConnState;
  retryAt?: number; // ms since epoch of the next attempt, while not live
  tokenRejected?: boolean; // the node refused the token in use; now read-only
}

/**
 * LiveListener receives the live stream. Calls come in stream order: a
 * transport never calls two methods at once or out of order.
 */
export interface LiveListener {
  /** The stream is (re)connected. The listener answers with sync(). */
  open(hello: Hello): void;
  /** A post changed (live, or replayed by sync). */
  posts(env: PostsEnvelope): void;
  /** A LAN peer joined or left. */
  peers(env: PeersEnvelope): void;
  /** The node's database is not the one the client knew: drop all state. Replay from 0 follows. */
  reset(epoch: string): void;
  /** The replay asked for by sync() is complete; the stream is live from seq on. */
  synced(seq: number): void;
  /** This client's own write committed as change seq; no posts event follows for it on the web. */
  ack(post: Post, seq: number): void;
  status(status: ConnStatus): void;
}

/** Unsubscribe stops what a subscribe started. */
export type Unsubscribe = () => void;

/**
 * Transport is the UI's only way to the node: Wails bindings and events in
 * the desktop window, REST and a websocket in a LAN browser.
 */
export interface Transport {
  readonly kind: 'desktop' | 'web';

  listPosts(before: string, limit: number): Promise<Page>;
  /** The limit posts immediately newer than the cursor after (a page's prev), newest first. */
  listNewer(after: string, limit: number): Promise<Page>;
  getPost(id: string): Promise<Post>;
  /** Write methods resolve with the committed post and also report it to LiveListener.ack. */
  createPost(input: NewPost): Promise<Post>;
  updatePost(id: string, patch: PostPatch): Promise<Post>;
  deletePost(id: string, version: number): Promise<Post>;

  info(): Promise<Info>;
  peers(): Promise<Peer[]>;

  /** The nodes this node follows, and how replicating each goes. */
  follows(): Promise<FollowInfo[]>;
  /** Follows the node at url (host:port or a URL); writes need the token in a browser. */
  follow(url: string): Promise<FollowInfo>;
  /** Unfollows a node: this node drops its posts and its clients get the deletes. */
  unfollow(node: string): Promise<void>;
  /** Nodes discovered on the LAN, not followed and not this one. */
  nearby(): Promise<NearbyNode[]>;
  settings(): Promise<MeshSettings>;
  setSettings(s: MeshSettings): Promise<MeshSettings>;

  /** Starts the live stream; one listener at a time. */
  connect(listener: LiveListener): Unsubscribe;
  /** Asks for every change after since (epoch: the one the client knows, '' if none). */
  sync(since: number, epoch: string): void;
  /** Re-establishes the stream after a gap; LiveListener.open follows. */
  resync(): void;

  /** The pairing token in use: the node's own on the desktop; '' if none. */
  token(): Promise<string>;
  /** Desktop only: makes a new pairing token; old links stop working. */
  rotateToken?(): Promise<string>;
  /** Browser only: writes with token from now on ('' forgets it) and reconnects. */
  setToken?(token: string): void;
  /** The display name: the node's on the desktop, this LAN peer's in a browser. */
  name(): Promise<string>;
  /** Sets the display name and resolves with the name in effect. */
  setName(name: string): Promise<string>;
}
