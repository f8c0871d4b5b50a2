// The harness of the Socket.IO tests: a real lanfeedd on loopback (a fresh
// data directory, its own port), REST helpers, and a collector that waits
// for events with a bound instead of sleeping.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { io } from 'socket.io-client';

/** The binary under test: $LANFEEDD, else ../../build/bin/lanfeedd. */
export const lanfeeddPath = resolve(process.env.LANFEEDD ?? '../../build/bin/lanfeedd');

/** Every wait is bounded by this (generous: two shared cores under -race builds). */
export const waitMs = 10_000;

/** startNode runs lanfeedd serve on 127.0.0.1 with dataDir (fresh if not given) and port (0: any). */
export async function startNode({ dataDir, port = 0, args = [] } = {}) {
  dataDir ??= await mkdtemp(join(tmpdir(), 'lanfeed-sio-'));
  const child = spawn(
    lanfeeddPath,
    ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--name', 'sio-node', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines = [];
  createInterface({ input: child.stderr }).on('line', (l) => lines.push(l));
  let url = '';
  let token = '';
  await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`lanfeedd did not start in ${waitMs} ms\n${lines.join('\n')}`)), waitMs);
    createInterface({ input: child.stdout }).on('line', (l) => {
      lines.push(l);
      url ||= /^listening on (http:\/\/\S+)$/.exec(l)?.[1] ?? '';
      token ||= /^pairing token: (\S+)$/.exec(l)?.[1] ?? '';
      if (url && token) {
        clearTimeout(timer);
        ok();
      }
    });
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`lanfeedd exited (${code}) before it was ready\n${lines.join('\n')}`)));
  });
  url = url.replace(/\/$/, '');
  return {
    url,
    token,
    dataDir,
    port: Number(new URL(url).port),
    log: () => lines.join('\n'),
    /** stop ends the process; remove also deletes its data directory. */
    async stop({ remove = false } = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((ok) => child.once('exit', ok));
        child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), waitMs);
        await exited;
        clearTimeout(kill);
      }
      if (remove) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** api calls the REST API with the pairing token. */
export async function api(node, method, path, body) {
  const res = await fetch(node.url + path, {
    method,
    headers: { Authorization: `Bearer ${node.token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(waitMs),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path} = ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** createPosts writes n posts over REST, one after the other. */
export async function createPosts(node, n, prefix = 'post') {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await api(node, 'POST', '/api/posts', { title: `${prefix} ${i}` }));
  return out;
}

/** The transport modes of the stock client the suite runs in, and the transport each ends on. */
export const modes = {
  websocket: { transports: ['websocket'] },
  'polling then upgrade': {},
  polling: { transports: ['polling'] },
};
export const endsOn = { websocket: 'websocket', 'polling then upgrade': 'websocket', polling: 'polling' };

/**
 * connect opens a stock socket.io client and collects what it receives.
 * `posts` holds the post events' data in arrival order.
 */
export function connect(node, opts = {}) {
  const socket = io(node.url, { forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 500, ...opts });
  const got = { posts: [], peers: [], errors: [], synced: [], hello: [], reset: [] };
  const waiters = new Set();
  const changed = () => {
    for (const w of waiters) w();
  };
  socket.on('posts', (data) => {
    got.posts.push(data);
    changed();
  });
  socket.on('peers', (data) => {
    got.peers.push(data);
    changed();
  });
  socket.on('synced', (data) => {
    got.synced.push(data);
    changed();
  });
  socket.on('reset', (data) => {
    got.reset.push(data);
    changed();
  });
  socket.on('hello', (data) => {
    got.hello.push(data);
    changed();
  });
  socket.on('connect', () => {
    socket.io.engine.on('upgrade', changed);
    changed();
  });
  socket.on('disconnect', changed);
  socket.on('connect_error', (e) => {
    got.errors.push(e);
    changed();
  });
  /** until resolves once ok() holds, checked on every event, or fails after ms. */
  const until = (what, ok, ms = waitMs) =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (!ok()) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${what} within ${ms} ms; got ${JSON.stringify(summary(got))}`));
      }, ms);
      waiters.add(check);
      check();
    });
  return { socket, got, until };
}

function summary(got) {
  return {
    posts: got.posts.map((d) => `${d.action}:${d.post.seq}`),
    synced: got.synced,
    errors: got.errors.map((e) => e.message),
  };
}
