import { backoffDelay } from '../../lib/backoff';
import { apiError, toApiError } from '../errors';
import type { ConnStatus, Hello, LiveListener, Peer, PeersEnvelope, Post, PostsEnvelope } from '../types';
import type { WebDeps } from './deps';
import { PendingWrites } from './pendingWrites';

/** Failed attempts after which "reconnecting" is shown as "offline". */
const offlineAfterAttempts = 4;
/** Handshakes refused in a row, with the node up, before the token counts as rejected. */
const refusalsBeforeTokenRejected = 2;
/** The node closes with 1013 when this peer fell behind and must resync: come back at once. */
const closeTryAgain = 1013;
/** What a browser reports when a socket failed without a close frame (a refused upgrade, say). */
const closeAbnormal = 1006;

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

/** socketURL is the websocket address beside page, with the name and token to connect with. */
export function socketURL(page: string, name: string, token: string): string {
  const u = new URL('ws', page);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.search = '';
  u.hash = '';
  u.searchParams.set('name', name);
  if (token) u.searchParams.set('token', token);
  return u.toString();
}

/** ConnectionDeps are the browser APIs and the parts of the transport a Connection uses. */
export interface ConnectionDeps
  extends Pick<WebDeps, 'WebSocket' | 'online' | 'addEventListener' | 'removeEventListener' | 'random'> {
  /** url is the socket's address with the current name and token. */
  url(): string;
  hasToken(): boolean;
  /** forgetToken drops a token the node no longer accepts. */
  forgetToken(): void;
  /** nodeAnswers tells whether the node answers plain HTTP. */
  nodeAnswers(): Promise<boolean>;
}

/**
 * Connection is the live stream (protocol v1) over one websocket at a time.
 * Between start and stop it is connecting (a socket, no hello yet), live
 * (the socket said hello) or waiting for the next attempt.
 *
 * It reconnects with exponential backoff and jitter after any close (at once
 * after 1013, "too slow, resync"); each new socket's hello reaches
 * LiveListener.open, which syncs from the last applied seq. A token the node
 * refuses is dropped, and the stream goes on read-only.
 */
export class Connection {
  private listener: LiveListener | null = null;
  private ws: WebSocket | null = null;
  private live = false; // ws said hello
  private attempt = 0; // failed attempts since the last hello: sets the backoff
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private refusals = 0; // handshakes failed in a row while holding a token
  private tokenRejected = false; // shown with every status until a new token is set
  private readonly writes = new PendingWrites();

  constructor(private readonly d: ConnectionDeps) {}

  /** isLive tells whether writes can go over the socket. */
  get isLive(): boolean {
    return this.ws !== null && this.live;
  }

  /** start connects and reports to listener until stop. */
  start(listener: LiveListener): void {
    this.listener = listener;
    this.attempt = 0;
    this.d.addEventListener('online', this.onOnline);
    this.d.addEventListener('offline', this.onOffline);
    this.status({ state: 'connecting' });
    this.open();
  }

  stop(): void {
    this.listener = null;
    clearTimeout(this.retryTimer);
    this.d.removeEventListener('online', this.onOnline);
    this.d.removeEventListener('offline', this.onOffline);
    this.close(1000, 'bye');
  }

  /** restart opens a new socket at once, to resync or to use a new name or token. */
  restart(): void {
    if (!this.listener) return;
    this.close(1000, 'reconnect');
    this.attempt = 0;
    this.status({ state: 'connecting' });
    this.open();
  }

  /** tokenReplaced restarts with a token the user just gave: it has not been refused yet. */
  tokenReplaced(): void {
    this.tokenRejected = false;
    this.refusals = 0;
    this.restart();
  }

  /** sync asks for every change after since; it is dropped unless live. */
  sync(since: number, epoch: string): void {
    if (this.ws && this.live) this.ws.send(JSON.stringify({ type: 'sync', since, epoch }));
  }

  /** emit sends a write and resolves with the post of its ack; LiveListener.ack hears of it first. */
  emit(event: string, data: unknown): Promise<Post> {
    const ws = this.ws;
    if (!ws || !this.live) return Promise.reject(apiError('offline', 'Not connected'));
    return this.writes.add((id) => ws.send(JSON.stringify({ type: 'emit', id, event, data })));
  }

  /** reportWrite tells the listener of a write committed another way (REST). */
  reportWrite(post: Post): void {
    this.listener?.ack(post, post.seq);
  }

  private status(s: Omit<ConnStatus, 'tokenRejected'>): void {
    this.listener?.status(this.tokenRejected ? { ...s, tokenRejected: true } : s);
  }

  private open(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const hadToken = this.d.hasToken();
    let ws: WebSocket;
    try {
      ws = new this.d.WebSocket(this.d.url());
    } catch {
      this.retry(closeAbnormal, false, hadToken);
      return;
    }
    this.ws = ws;
    this.live = false;
    let gotHello = false;
    ws.onmessage = (m: MessageEvent) => {
      if (this.ws !== ws) return;
      const f = parseFrame(m.data);
      if (!f) return;
      if (f.type === 'hello') gotHello = true;
      this.handle(f);
    };
    ws.onclose = (e: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.live = false;
      this.writes.failAll('The connection dropped before the node answered; the change may or may not have been saved.');
      this.retry(e.code, gotHello, hadToken);
    };
  }

  private close(code: number, reason: string): void {
    const ws = this.ws;
    this.ws = null;
    this.live = false;
    if (ws) {
      ws.onmessage = null;
      ws.onclose = null;
      try {
        ws.close(code, reason);
      } catch {
        // already closing
      }
    }
    this.writes.failAll('The connection was restarted before the node answered; the change may or may not have been saved.');
  }

  // retry schedules the next attempt after a socket closed with code.
  private retry(code: number, gotHello: boolean, hadToken: boolean): void {
    if (!this.listener) return;
    if (gotHello) this.attempt = 0;
    if (!gotHello && hadToken) {
      // A wrong token is refused with 401 at the upgrade, which a browser
      // only sees as a failed socket: if the node answers plain HTTP, the
      // token is the likely reason.
      if (++this.refusals >= refusalsBeforeTokenRejected) void this.checkToken();
    }
    const delay = backoffDelay(code === closeTryAgain ? 0 : this.attempt, { random: this.d.random });
    if (code !== closeTryAgain) this.attempt++;
    const offline = this.attempt >= offlineAfterAttempts || !this.d.online();
    this.status({ state: offline ? 'offline' : 'reconnecting', retryAt: Date.now() + delay });
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private async checkToken(): Promise<void> {
    // the node down is not the token's fault
    if ((await this.d.nodeAnswers()) && this.d.hasToken() && this.listener) this.dropToken();
  }

  // dropToken forgets a token the node no longer accepts and reconnects
  // read-only; the UI then asks for the new token.
  private dropToken(): void {
    this.d.forgetToken();
    this.tokenRejected = true;
    this.refusals = 0;
    this.attempt = 0;
    this.close(1000, 'token rejected');
    this.open();
  }

  private handle(f: ServerFrame): void {
    const l = this.listener;
    if (!l) return;
    switch (f.type) {
      case 'hello':
        this.live = true;
        this.attempt = 0;
        this.refusals = 0;
        this.status({ state: 'live' });
        l.open(helloOf(f));
        return;
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
        if (f.canWrite === false && this.d.hasToken()) this.dropToken();
        return;
      case 'ack': {
        const post = f.data as Post;
        // the ack is part of the seq stream even if its request timed out
        l.ack(post, f.seq ?? post.seq);
        this.writes.resolve(f.id, post);
        return;
      }
      case 'error':
        this.writes.reject(f.id, toApiError({ code: f.code, message: f.message, field: f.field, post: f.post }));
        return;
    }
  }

  private readonly onOnline = () => {
    if (!this.ws && this.listener) {
      this.attempt = 0;
      this.open();
    }
  };

  private readonly onOffline = () => {
    if (!this.live) this.status({ state: 'offline' });
  };
}

// parseFrame reads one text message; anything else is not a frame.
function parseFrame(data: unknown): ServerFrame | null {
  if (typeof data !== 'string') return null;
  try {
    return JSON.parse(data) as ServerFrame;
  } catch {
    return null;
  }
}

function helloOf(f: ServerFrame): Hello {
  const hello: Hello = {
    epoch: f.epoch ?? '',
    seq: f.seq ?? 0,
    node: f.node ?? { id: '', name: '' },
    canWrite: f.canWrite === true,
  };
  if (f.peer) hello.peer = f.peer;
  return hello;
}
