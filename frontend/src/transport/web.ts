// The browser transport: REST for reads (and writes while the socket is
// down) and one websocket (protocol v1) for the live stream and writes.
import { backoffDelay } from '../lib/backoff';
import { nameLengthError } from '../features/posts/api/limits';
import { firstControlChar } from '../lib/text';
import { apiError, toApiError } from './errors';
import type {
  ApiError,
  ConnStatus,
  Hello,
  Info,
  LiveListener,
  NewPost,
  Page,
  Peer,
  PeersEnvelope,
  Post,
  PostPatch,
  PostsEnvelope,
  Transport,
  Unsubscribe,
} from './types';

/** How long a websocket write may wait for its ack. */
const writeTimeoutMs = 15_000;
/** Failed attempts after which "reconnecting" is shown as "offline". */
const offlineAfterAttempts = 4;
/** Handshakes refused in a row, with the node up, before the token counts as rejected. */
const refusalsBeforeTokenRejected = 2;

const tokenKey = 'lanfeed.token';
const nameKey = 'lanfeed.name';

/** WebDeps are the browser APIs the transport uses; tests pass fakes. */
export interface WebDeps {
  location: Pick<Location, 'href' | 'hash' | 'pathname' | 'search'>;
  history: Pick<History, 'replaceState'>;
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  fetch: typeof fetch;
  WebSocket: new (url: string) => WebSocket;
  online: () => boolean;
  addEventListener: (type: 'online' | 'offline', f: () => void) => void;
  removeEventListener: (type: 'online' | 'offline', f: () => void) => void;
  random: () => number;
}

function browserDeps(): WebDeps {
  return {
    location: window.location,
    history: window.history,
    storage: safeStorage(),
    fetch: (...a) => window.fetch(...a),
    WebSocket: window.WebSocket,
    online: () => navigator.onLine !== false,
    addEventListener: (t, f) => window.addEventListener(t, f),
    removeEventListener: (t, f) => window.removeEventListener(t, f),
    random: Math.random,
  };
}

// safeStorage falls back to memory where localStorage is unavailable
// (private modes, storage disabled).
function safeStorage(): WebDeps['storage'] {
  try {
    const s = window.localStorage;
    s.getItem(tokenKey);
    return s;
  } catch {
    const m = new Map<string, string>();
    return {
      getItem: (k) => m.get(k) ?? null,
      setItem: (k, v) => void m.set(k, v),
      removeItem: (k) => void m.delete(k),
    };
  }
}

/**
 * takeTokenFromURL moves a token given in the page's fragment (#token=...,
 * the link the desktop app shares) into storage and removes it from the
 * address bar and history.
 */
export function takeTokenFromURL(d: Pick<WebDeps, 'location' | 'history' | 'storage'>): void {
  const hash = d.location.hash.replace(/^#/, '');
  if (!hash) return;
  const params = new URLSearchParams(hash);
  const token = params.get('token');
  if (token === null) return;
  if (token) d.storage.setItem(tokenKey, token);
  params.delete('token');
  const rest = params.toString();
  d.history.replaceState(null, '', d.location.pathname + d.location.search + (rest ? '#' + rest : ''));
}

const statusCodes: Record<number, ApiError['code']> = {
  400: 'bad_request',
  401: 'unauthorized',
  404: 'not_found',
  409: 'conflict',
  413: 'too_large',
  429: 'rate_limited',
};

interface PendingWrite {
  resolve: (p: Post) => void;
  reject: (e: ApiError) => void;
  timer: ReturnType<typeof setTimeout>;
}

// ServerFrame is any message the node sends; fields depend on type.
interface ServerFrame {
  type: string;
  id?: number;
  event?: string;
  seq?: number;
  epoch?: string;
  data?: unknown;
  node?: Hello['node'];
  peer?: Peer;
  canWrite?: boolean;
  code?: string;
  message?: string;
  field?: string;
  post?: Post;
}

/**
 * createWebTransport talks to the node that served the page. URLs are
 * relative to the page, so the bundle works under any path.
 *
 * The socket reconnects with exponential backoff and jitter after any close
 * (at once after 1013, "too slow, resync"); each new socket's hello reaches
 * LiveListener.open, which syncs from the last applied seq.
 */
export function createWebTransport(deps: Partial<WebDeps> = {}): Transport {
  const d: WebDeps = { ...browserDeps(), ...deps };
  takeTokenFromURL(d);
  if (!d.storage.getItem(nameKey)) {
    d.storage.setItem(nameKey, 'guest-' + Math.floor(d.random() * 0x10000).toString(16).padStart(4, '0'));
  }

  const token = () => d.storage.getItem(tokenKey) ?? '';
  const name = () => d.storage.getItem(nameKey) ?? 'guest';
  const url = (path: string) => new URL(path, d.location.href);

  // ---- REST ----

  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const t = token();
    if (t && method !== 'GET') headers.Authorization = `Bearer ${t}`;
    let res: Response;
    try {
      res = await d.fetch(url(path), {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
      });
    } catch {
      throw apiError('offline', 'Cannot reach the node. Check the connection.');
    }
    let json: unknown = null;
    try {
      json = await res.json();
    } catch {
      // an empty or non-JSON body: the status tells what happened
    }
    if (res.ok) return json as T;
    const err = toApiError(json, `The node answered ${res.status}`);
    if (err.code === 'internal' && res.status !== 500) err.code = statusCodes[res.status] ?? 'internal';
    throw err;
  }

  // ---- websocket ----

  let listener: LiveListener | null = null;
  let ws: WebSocket | null = null;
  let ready = false; // the current socket said hello
  let attempt = 0;
  let refusals = 0;
  let tokenRejected = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let nextWriteID = 0;
  const pending = new Map<number, PendingWrite>();

  function status(s: Omit<ConnStatus, 'tokenRejected'>): void {
    listener?.status(tokenRejected ? { ...s, tokenRejected } : s);
  }

  function wsURL(): string {
    const u = url('ws');
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.search = '';
    u.hash = '';
    u.searchParams.set('name', name());
    const t = token();
    if (t) u.searchParams.set('token', t);
    return u.toString();
  }

  function openSocket(): void {
    clearTimeout(retryTimer);
    retryTimer = undefined;
    const hadToken = token() !== '';
    let sock: WebSocket;
    try {
      sock = new d.WebSocket(wsURL());
    } catch {
      scheduleReconnect(1006, false, hadToken);
      return;
    }
    ws = sock;
    ready = false;
    let gotHello = false;
    sock.onmessage = (m: MessageEvent) => {
      if (ws !== sock || typeof m.data !== 'string') return;
      let f: ServerFrame;
      try {
        f = JSON.parse(m.data) as ServerFrame;
      } catch {
        return;
      }
      if (f.type === 'hello') gotHello = true;
      handle(f);
    };
    sock.onclose = (e: CloseEvent) => {
      if (ws !== sock) return;
      ws = null;
      ready = false;
      failPending('The connection dropped before the node answered; the change may or may not have been saved.');
      scheduleReconnect(e.code, gotHello, hadToken);
    };
  }

  function closeSocket(code: number, reason: string): void {
    const sock = ws;
    ws = null;
    ready = false;
    if (sock) {
      sock.onmessage = null;
      sock.onclose = null;
      try {
        sock.close(code, reason);
      } catch {
        // already closing
      }
    }
    failPending('The connection was restarted before the node answered; the change may or may not have been saved.');
  }

  function scheduleReconnect(code: number, gotHello: boolean, hadToken: boolean): void {
    if (!listener) return;
    if (gotHello) attempt = 0;
    if (!gotHello && hadToken) {
      // A wrong token is refused with 401 at the upgrade, which a browser
      // only sees as a failed socket: if the node answers plain HTTP, the
      // token is the likely reason.
      if (++refusals >= refusalsBeforeTokenRejected) void checkToken();
    }
    // 1013: this peer fell behind and must resync; come back at once
    const delay = code === 1013 ? backoffDelay(0, { random: d.random }) : backoffDelay(attempt, { random: d.random });
    if (code !== 1013) attempt++;
    const retryAt = Date.now() + delay;
    status({ state: attempt >= offlineAfterAttempts || !d.online() ? 'offline' : 'reconnecting', retryAt });
    retryTimer = setTimeout(openSocket, delay);
  }

  async function checkToken(): Promise<void> {
    try {
      const res = await d.fetch(url('api/info'), { headers: { Accept: 'application/json' } });
      if (!res.ok || !token() || !listener) return;
    } catch {
      return; // the node is down: not the token's fault
    }
    dropToken();
  }

  // dropToken forgets a token the node no longer accepts and reconnects
  // read-only; the UI then asks for the new token.
  function dropToken(): void {
    d.storage.removeItem(tokenKey);
    tokenRejected = true;
    refusals = 0;
    attempt = 0;
    closeSocket(1000, 'token rejected');
    openSocket();
  }

  function handle(f: ServerFrame): void {
    const l = listener;
    if (!l) return;
    switch (f.type) {
      case 'hello': {
        ready = true;
        attempt = 0;
        refusals = 0;
        status({ state: 'live' });
        const hello: Hello = {
          epoch: f.epoch ?? '',
          seq: f.seq ?? 0,
          node: f.node ?? { id: '', name: '' },
          canWrite: f.canWrite === true,
        };
        if (f.peer) hello.peer = f.peer;
        l.open(hello);
        return;
      }
      case 'event':
        if (f.event === 'posts') l.posts(f as unknown as PostsEnvelope);
        else if (f.event === 'peers') l.peers(f as unknown as PeersEnvelope);
        return;
      case 'reset':
        l.reset(f.epoch ?? '');
        return;
      case 'synced':
        l.synced(f.seq ?? 0);
        return;
      case 'auth':
        // the owner changed the pairing token: this page may no longer write
        if (f.canWrite === false && token()) dropToken();
        return;
      case 'ack': {
        const p = f.id === undefined ? undefined : pending.get(f.id);
        const post = f.data as Post;
        // the ack is part of the seq stream even if its request timed out
        l.ack(post, f.seq ?? post.seq);
        if (p && f.id !== undefined) {
          pending.delete(f.id);
          clearTimeout(p.timer);
          p.resolve(post);
        }
        return;
      }
      case 'error': {
        const p = f.id === undefined ? undefined : pending.get(f.id);
        if (p && f.id !== undefined) {
          pending.delete(f.id);
          clearTimeout(p.timer);
          p.reject(toApiError({ code: f.code, message: f.message, field: f.field, post: f.post }));
        }
        return;
      }
    }
  }

  function failPending(message: string): void {
    for (const [id, p] of pending) {
      pending.delete(id);
      clearTimeout(p.timer);
      p.reject(apiError('timeout', message));
    }
  }

  function emit(event: string, data: unknown): Promise<Post> {
    const sock = ws;
    if (!sock || !ready) return Promise.reject(apiError('offline', 'Not connected'));
    const id = ++nextWriteID;
    return new Promise<Post>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(apiError('timeout', 'The node did not answer in time; the change may or may not have been saved.'));
      }, writeTimeoutMs);
      pending.set(id, { resolve, reject, timer });
      sock.send(JSON.stringify({ type: 'emit', id, event, data }));
    });
  }

  // write sends over the socket when it is up, else over REST.
  async function write(event: string, data: unknown, rest: () => Promise<Post>): Promise<Post> {
    if (ws && ready) return emit(event, data);
    const post = await rest();
    listener?.ack(post, post.seq);
    return post;
  }

  const onOnline = () => {
    if (!ws && listener) {
      attempt = 0;
      openSocket();
    }
  };
  const onOffline = () => {
    if (!ready) status({ state: 'offline' });
  };

  function reconnectNow(): void {
    if (!listener) return;
    closeSocket(1000, 'reconnect');
    attempt = 0;
    status({ state: 'connecting' });
    openSocket();
  }

  return {
    kind: 'web',

    listPosts: (before, limit) => {
      const q = new URLSearchParams({ limit: String(limit) });
      if (before) q.set('before', before);
      return request<Page>('GET', `api/posts?${q}`).then((p) => ({ ...p, posts: p.posts ?? [] }));
    },
    getPost: (id) => request<Post>('GET', `api/posts/${encodeURIComponent(id)}`),
    createPost: (input: NewPost) =>
      write('posts.create', input, () => request<Post>('POST', 'api/posts', input)),
    updatePost: (id: string, patch: PostPatch) =>
      write('posts.update', { id, ...patch }, () =>
        request<Post>('PATCH', `api/posts/${encodeURIComponent(id)}`, patch),
      ),
    deletePost: (id: string, version: number) =>
      write('posts.delete', { id, version }, () =>
        request<Post>('DELETE', `api/posts/${encodeURIComponent(id)}?version=${version}`),
      ),

    info: () => request<Info>('GET', 'api/info'),
    peers: () => request<{ peers: Peer[] | null }>('GET', 'api/peers').then((r) => r.peers ?? []),

    connect(l: LiveListener): Unsubscribe {
      listener = l;
      attempt = 0;
      d.addEventListener('online', onOnline);
      d.addEventListener('offline', onOffline);
      status({ state: 'connecting' });
      openSocket();
      return () => {
        listener = null;
        clearTimeout(retryTimer);
        d.removeEventListener('online', onOnline);
        d.removeEventListener('offline', onOffline);
        closeSocket(1000, 'bye');
      };
    },
    sync(since, epoch) {
      if (ws && ready) ws.send(JSON.stringify({ type: 'sync', since, epoch }));
    },
    resync: reconnectNow,

    token: () => Promise.resolve(token()),
    setToken(t: string) {
      const v = t.trim();
      if (v) d.storage.setItem(tokenKey, v);
      else d.storage.removeItem(tokenKey);
      tokenRejected = false;
      refusals = 0;
      reconnectNow();
    },
    name: () => Promise.resolve(name()),
    setName(n: string) {
      const v = n.trim();
      // the node refuses a bad name at the upgrade, which would look like a lost connection
      const problem = nameLengthError(v) ?? (firstControlChar(v) ? 'A name cannot contain control characters.' : null);
      if (problem) return Promise.reject<string>({ code: 'invalid', field: 'name', message: problem });
      d.storage.setItem(nameKey, v);
      reconnectNow();
      return Promise.resolve(v);
    },
  };
}
