// The browser transport: REST for reads (and writes while the socket is
// down) and one websocket (protocol v1) for the live stream and writes.
// Each job has its module: credentials (token and name in storage), rest,
// connection (the socket's state machine) and pendingWrites (acks to writes).
import type { FollowInfo, Info, MeshSettings, NearbyNode, NewPost, Page, Peer, Post, PostPatch, Transport } from '../types';
import { Connection, socketURL } from './connection';
import { Credentials, nameError, takeTokenFromURL } from './credentials';
import { browserDeps, type WebDeps } from './deps';
import { restClient } from './rest';

export type { WebDeps } from './deps';
export { takeTokenFromURL } from './credentials';

/**
 * createWebTransport talks to the node that served the page. URLs are
 * relative to the page, so the bundle works under any path.
 */
export function createWebTransport(deps: Partial<WebDeps> = {}): Transport {
  const d: WebDeps = { ...browserDeps(), ...deps };
  takeTokenFromURL(d);
  const creds = new Credentials(d.storage, d.random);
  const rest = restClient(d, () => creds.token());
  const conn = new Connection({
    ...d,
    url: () => socketURL(d.location.href, creds.name(), creds.token()),
    hasToken: () => creds.token() !== '',
    forgetToken: () => creds.setToken(''),
    nodeAnswers: () => rest.nodeAnswers(),
  });

  // write sends over the socket when it is live, else over REST.
  async function write(event: string, data: unknown, viaRest: () => Promise<Post>): Promise<Post> {
    if (conn.isLive) return conn.emit(event, data);
    const post = await viaRest();
    conn.reportWrite(post);
    return post;
  }

  const postPath = (id: string) => `api/posts/${encodeURIComponent(id)}`;
  // a page of GET /api/posts with the query's cursor ('' leaves it out)
  const page = (cursor: 'before' | 'after', at: string, limit: number) => {
    const q = new URLSearchParams({ limit: String(limit) });
    if (at) q.set(cursor, at);
    return rest.request<Page>('GET', `api/posts?${q}`).then((p) => ({ ...p, posts: p.posts ?? [] }));
  };

  return {
    kind: 'web',

    listPosts: (before, limit) => page('before', before, limit),
    listNewer: (after, limit) => page('after', after, limit),
    getPost: (id) => rest.request<Post>('GET', postPath(id)),
    createPost: (input: NewPost) =>
      write('posts.create', input, () => rest.request<Post>('POST', 'api/posts', input)),
    updatePost: (id: string, patch: PostPatch) =>
      write('posts.update', { id, ...patch }, () => rest.request<Post>('PATCH', postPath(id), patch)),
    deletePost: (id: string, version: number) =>
      write('posts.delete', { id, version }, () => rest.request<Post>('DELETE', `${postPath(id)}?version=${version}`)),

    info: () => rest.request<Info>('GET', 'api/info'),
    peers: () => rest.request<{ peers: Peer[] | null }>('GET', 'api/peers').then((r) => r.peers ?? []),

    follows: () =>
      rest.request<{ follows: FollowInfo[] | null }>('GET', 'api/follows').then((r) => r.follows ?? []),
    follow: (url: string) => rest.request<FollowInfo>('POST', 'api/follows', { url }),
    unfollow: (node: string) =>
      rest.request<unknown>('DELETE', `api/follows/${encodeURIComponent(node)}`).then(() => undefined),
    nearby: () =>
      rest.request<{ nearby: NearbyNode[] | null }>('GET', 'api/nearby').then((r) => r.nearby ?? []),
    settings: () => rest.request<MeshSettings>('GET', 'api/settings'),
    setSettings: (s: MeshSettings) => rest.request<MeshSettings>('PUT', 'api/settings', s),

    connect(listener) {
      conn.start(listener);
      return () => conn.stop();
    },
    sync: (since, epoch) => conn.sync(since, epoch),
    resync: () => conn.restart(),

    token: () => Promise.resolve(creds.token()),
    setToken(t: string) {
      creds.setToken(t.trim());
      conn.tokenReplaced();
    },
    name: () => Promise.resolve(creds.name()),
    setName(n: string) {
      const v = n.trim();
      const err = nameError(v);
      if (err) return Promise.reject<string>(err);
      creds.setName(v);
      conn.restart();
      return Promise.resolve(v);
    },
  };
}
