// The end-to-end harness: a real lanfeedd on loopback (one per test, its own
// temporary data dir, port 0), Debian's Chromium driven by playwright-core
// (never a downloaded browser), and small helpers that read the feed the way
// a user sees it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import NodeWebSocket from 'ws';

declare global {
  interface Window {
    /** __sockets are the page's websockets, newest last (see openTab). */
    __sockets: WebSocket[];
  }
}

const frontendDir = resolve(import.meta.dirname, '..');

/** lanfeeddPath is the binary under test: $LANFEEDD, else ../build/bin/lanfeedd. */
export const lanfeeddPath = process.env.LANFEEDD
  ? resolve(process.cwd(), process.env.LANFEEDD)
  : resolve(frontendDir, '../build/bin/lanfeedd');

/** artifactsDir keeps screenshots; it is gitignored. */
export const artifactsDir = resolve(frontendDir, '../test-artifacts');

/** How long lanfeedd may take to print its address and token. */
const nodeStartTimeoutMs = 10_000;
/** How long lanfeedd may take to stop after SIGTERM before it is killed. */
const nodeStopTimeoutMs = 6_000;
/** Default bound on every Playwright action and wait. */
export const actionTimeoutMs = 5_000;

const chromiumArgs = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** checkBinary fails early, and says how to fix it, when lanfeedd is missing or older than the UI bundle. */
export function checkBinary(): void {
  if (!existsSync(lanfeeddPath)) {
    throw new Error(
      `lanfeedd not found at ${lanfeeddPath}: build the UI, then the node ` +
        '(cd frontend && npm run build; cd .. && CGO_ENABLED=0 go build -o build/bin/lanfeedd ./cmd/lanfeedd), ' +
        'or point LANFEEDD at a binary',
    );
  }
  const index = resolve(frontendDir, 'dist/index.html');
  if (existsSync(index) && statSync(index).mtimeMs > statSync(lanfeeddPath).mtimeMs) {
    console.warn(`e2e: frontend/dist is newer than ${lanfeeddPath}; the tests run the UI embedded in the binary`);
  }
}

// ---- the node ----

/** Node is one running lanfeedd. */
export interface Node {
  url: string; // http://127.0.0.1:PORT/
  token: string;
  /** writeLink is the link the app shares: it carries the pairing token. */
  writeLink: string;
  /** log is what the node printed so far, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * startNode runs lanfeedd serve on 127.0.0.1, port 0, with a fresh data dir;
 * flags are added to its command line (e.g. higher write limits).
 */
export async function startNode(name = 'e2e-node', flags: string[] = []): Promise<Node> {
  const dataDir = await mkdtemp(join(tmpdir(), 'lanfeed-e2e-'));
  const child = spawn(
    lanfeeddPath,
    ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--name', name, ...flags],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  const log = () => lines.join('\n');
  createInterface({ input: child.stderr }).on('line', (l) => lines.push(l));
  const out = createInterface({ input: child.stdout });

  let url = '';
  let token = '';
  try {
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`lanfeedd printed no address and token in ${nodeStartTimeoutMs} ms`)),
        nodeStartTimeoutMs,
      );
      const done = (err?: Error) => {
        clearTimeout(timer);
        if (err) fail(err);
        else ok();
      };
      out.on('line', (l) => {
        lines.push(l);
        const listening = /^listening on (http:\/\/\S+)$/.exec(l)?.[1];
        if (listening) url = listening;
        const tok = /^pairing token: (\S+)$/.exec(l)?.[1];
        if (tok) token = tok;
        if (url && token) done();
      });
      child.once('error', (e) => done(e));
      child.once('exit', (code, sig) => done(new Error(`lanfeedd exited (${code ?? sig}) before it was ready`)));
    });
  } catch (e) {
    await stopChild(child);
    await rm(dataDir, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}\n${log()}`, { cause: e });
  }
  if (!url.endsWith('/')) url += '/';

  let stopped: Promise<void> | null = null;
  return {
    url,
    token,
    writeLink: `${url}#token=${token}`,
    log,
    stop: () =>
      (stopped ??= (async () => {
        await stopChild(child);
        await rm(dataDir, { recursive: true, force: true });
      })()),
  };
}

// stopChild asks the process to shut down cleanly and kills it if it does not.
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), nodeStopTimeoutMs);
  await exited;
  clearTimeout(timer);
}

// ---- REST, as a program on the LAN would use it ----

/** WirePost is a post as the API sends it. */
export interface WirePost {
  id: string;
  title: string;
  body: string;
  author: string;
  origin: string;
  createdAt: string;
  updatedAt: string;
  version: number;
  deleted: boolean;
  seq: number;
}

/** api calls the node's REST API; token '' sends no Authorization header. */
export async function api(
  node: Node,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown } = {},
): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = opts.token ?? node.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(new URL(path, node.url), {
    method,
    headers,
    body: opts.body === undefined ? null : JSON.stringify(opts.body),
    signal: AbortSignal.timeout(actionTimeoutMs),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null };
}

/** createPost writes a post over REST with the pairing token. */
export async function createPost(node: Node, title: string, body = ''): Promise<WirePost> {
  const res = await api(node, 'POST', 'api/posts', { body: { title, body } });
  if (res.status !== 201) throw new Error(`POST /api/posts = ${res.status} ${JSON.stringify(res.json)}; want 201`);
  return res.json as WirePost;
}

/** listPosts reads the first page of the feed (live posts, newest first). */
export async function listPosts(node: Node): Promise<WirePost[]> {
  const res = await api(node, 'GET', 'api/posts?limit=100', { token: '' });
  if (res.status !== 200) throw new Error(`GET /api/posts = ${res.status}; want 200`);
  return (res.json as { posts: WirePost[] }).posts;
}

// ---- a raw websocket peer (protocol v1) ----

/** Frame is a message from /ws as the tests read it; which fields it has depends on type. */
export interface Frame {
  type: string;
  id?: number;
  proto?: number;
  canWrite?: boolean;
  code?: string;
  data?: WirePost; // an ack's committed post
}

/** RawPeer is a program connected to /ws, speaking the protocol by hand. */
export interface RawPeer {
  hello: Frame;
  /** emit sends a write and resolves with the ack or error frame answering it, within timeout ms. */
  emit(event: string, data: unknown, timeout?: number): Promise<Frame>;
  close(): void;
}

export async function connectPeer(node: Node, name: string, token = node.token): Promise<RawPeer> {
  const u = new URL('ws', node.url);
  u.protocol = 'ws:';
  u.searchParams.set('name', name);
  if (token) u.searchParams.set('token', token);
  const sock = new NodeWebSocket(u);
  const waiting = new Map<number, (frame: Frame) => void>();
  let nextID = 0;
  const hello = await new Promise<Frame>((ok, fail) => {
    const timer = setTimeout(() => {
      sock.terminate();
      fail(new Error('no hello from /ws in time'));
    }, actionTimeoutMs);
    sock.once('error', (e) => {
      clearTimeout(timer);
      sock.terminate();
      fail(e);
    });
    sock.on('message', (raw) => {
      // a Buffer: the socket's binaryType is the default, 'nodebuffer'
      const f = JSON.parse((raw as Buffer).toString()) as Frame;
      if (f.type === 'hello') {
        clearTimeout(timer);
        ok(f);
      } else if ((f.type === 'ack' || f.type === 'error') && typeof f.id === 'number') {
        waiting.get(f.id)?.(f);
        waiting.delete(f.id);
      }
    });
  });
  return {
    hello,
    emit(event, data, timeout = actionTimeoutMs) {
      const id = ++nextID;
      return new Promise<Frame>((ok, fail) => {
        const timer = setTimeout(() => fail(new Error(`no answer to emit ${id} (${event}) in ${timeout} ms`)), timeout);
        waiting.set(id, (f) => {
          clearTimeout(timer);
          ok(f);
        });
        sock.send(JSON.stringify({ type: 'emit', id, event, data }));
      });
    },
    close: () => sock.close(1000, 'bye'),
  };
}

// ---- the browser ----

/** launchBrowser starts Debian's Chromium, headless, with a throwaway profile. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: chromiumArgs,
    timeout: 30_000,
  });
}

/**
 * sharedBrowser gives a test file one browser: launched before its tests (after
 * checking the lanfeedd binary) and closed after them. Call the returned
 * function inside a test or hook.
 */
export function sharedBrowser(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    checkBinary();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (!browser) throw new Error('the browser is not launched yet');
    return browser;
  };
}

/** Tab is one browser page of the UI in its own context (its own storage). */
export interface Tab {
  page: Page;
  context: BrowserContext;
  /** errors are uncaught exceptions the page threw. */
  errors: Error[];
}

/** TabOptions change how a tab is opened; the defaults suit most tests. */
export interface TabOptions {
  /** viewport in CSS pixels; default 1100x900. */
  viewport?: { width: number; height: number };
  /** motion: 'reduce' (default, steadier screenshots) or 'no-preference', as most readers have it. */
  motion?: 'reduce' | 'no-preference';
}

/**
 * openTab opens url in a fresh context. Every WebSocket the page makes is
 * recorded in window.__sockets so a test can drop the live connection the
 * way a network hiccup would.
 */
export async function openTab(browser: Browser, url: string, opts: TabOptions = {}): Promise<Tab> {
  const context = await browser.newContext({
    viewport: opts.viewport ?? { width: 1100, height: 900 },
    reducedMotion: opts.motion ?? 'reduce',
  });
  context.setDefaultTimeout(actionTimeoutMs);
  context.setDefaultNavigationTimeout(10_000);
  await context.addInitScript(() => {
    const Native = window.WebSocket;
    const sockets: WebSocket[] = [];
    window.__sockets = sockets;
    window.WebSocket = class extends Native {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        sockets.push(this);
      }
    };
  });
  const errors: Error[] = [];
  try {
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e));
    await page.goto(url);
    return { page, context, errors };
  } catch (e) {
    await context.close();
    throw e;
  }
}

/** waitLive waits until the page's connection badge says Live. */
export async function waitLive(page: Page, timeout = actionTimeoutMs): Promise<void> {
  await page.locator('header [role="status"]', { hasText: 'Live' }).waitFor({ timeout });
}

/** waitWritable waits until the composer is there: the page is live and may write. */
export async function waitWritable(page: Page): Promise<void> {
  await waitLive(page);
  await page.getByRole('form', { name: 'New post' }).waitFor();
}

/** dropConnection closes the page's live websocket from the client side. */
export async function dropConnection(page: Page): Promise<void> {
  await page.evaluate(() => {
    const open = window.__sockets.filter((s) => s.readyState === WebSocket.OPEN);
    for (const s of open) s.close(4000, 'e2e: dropped');
  });
}

/** publish writes a post through the page's composer and waits until the composer is ready again. */
export async function publish(page: Page, title: string, body = ''): Promise<void> {
  const form = page.getByRole('form', { name: 'New post' });
  await form.getByLabel('Title').fill(title);
  await form.getByLabel('Text').fill(body);
  await form.getByRole('button', { name: 'Publish' }).click();
  // the fields are cleared once the node acknowledged the post
  await waitFor(page, () => {
    const f = document.querySelector('form[aria-label="New post"]');
    const t = f?.querySelector('input');
    return Boolean(t && t.value === '' && !f!.querySelector('fieldset')!.disabled);
  });
}

/** FeedItem is a post card as the reader sees it, top to bottom. */
export interface FeedItem {
  id: string;
  title: string;
  body: string;
  author: string;
}

/** feedItems reads the post cards of the feed, in page order. */
export function feedItems(page: Page): Promise<FeedItem[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>('[role="feed"] article[data-post-id]')).map((a) => ({
      id: a.dataset.postId ?? '',
      title: a.querySelector('h2')?.textContent ?? '',
      body: a.querySelector('h2 + div')?.textContent ?? '',
      // the first line of the card's meta (aria-describedby): the author
      author: document.getElementById(a.getAttribute('aria-describedby') ?? '')?.firstElementChild?.textContent ?? '',
    })),
  );
}

/** feedTitles reads the titles of the feed, in page order. */
export async function feedTitles(page: Page): Promise<string[]> {
  return (await feedItems(page)).map((p) => p.title);
}

/**
 * waitFor polls a predicate in the page on every animation frame until it
 * holds, for at most timeout ms; arg is passed to it.
 */
export async function waitFor<A>(
  page: Page,
  predicate: (arg: A) => boolean,
  arg?: A,
  timeout = actionTimeoutMs,
): Promise<void> {
  await page.waitForFunction(predicate as (arg: unknown) => boolean, arg, { timeout, polling: 'raf' });
}

/** waitForTitles waits until the feed shows exactly titles, in that order. */
export async function waitForTitles(page: Page, titles: string[], timeout = actionTimeoutMs): Promise<void> {
  try {
    await waitFor(
      page,
      (want: string[]) => {
        const got = Array.from(document.querySelectorAll('[role="feed"] article[data-post-id] h2')).map(
          (h) => h.textContent,
        );
        return got.length === want.length && got.every((t, i) => t === want[i]);
      },
      titles,
      timeout,
    );
  } catch (e) {
    const got = await feedTitles(page).catch(() => ['(page gone)']);
    throw new Error(`feed titles = ${JSON.stringify(got)}; want ${JSON.stringify(titles)} (${(e as Error).message.split('\n')[0]})`, {
      cause: e,
    });
  }
}

/** screenshot saves a full-page screenshot into test-artifacts/. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(artifactsDir, name);
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true, timeout: 10_000 });
  return path;
}

// ---- CPU time, as the kernel counts it ----

/** clockTicks is the unit of utime and stime in /proc/PID/stat (USER_HZ). */
const clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** ProcTimes is one process's name and CPU time (user + system) in ms. */
interface ProcTimes {
  comm: string;
  ppid: number;
  cpuMs: number;
}

// readStat parses /proc/PID/stat; comm is in parentheses and may hold spaces.
function readStat(pid: number): ProcTimes | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // gone
  }
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  // after "(comm) ": state ppid ... utime is field 14, stime 15 (1-based)
  const f = text.slice(close + 2).split(' ');
  return { comm, ppid: Number(f[1]), cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / clockTicks };
}

/** descendants lists the processes below root (children, their children, ...) with their CPU times. */
export function descendants(root: number): Map<number, ProcTimes> {
  const all = new Map<number, ProcTimes>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const st = readStat(Number(d));
    if (st) all.set(Number(d), st);
  }
  const out = new Map<number, ProcTimes>();
  const todo = [root];
  while (todo.length) {
    const parent = todo.pop()!;
    for (const [pid, st] of all) {
      if (st.ppid === parent && !out.has(pid)) {
        out.set(pid, st);
        todo.push(pid);
      }
    }
  }
  return out;
}

/**
 * cpuShare is the CPU time the processes chosen by keep used between two
 * descendants() snapshots, as a share of one core over wallMs. A process
 * that started in between counts from zero; one that ended is left out.
 */
export function cpuShare(
  before: Map<number, ProcTimes>,
  after: Map<number, ProcTimes>,
  wallMs: number,
  keep: (comm: string) => boolean,
): { share: number; perProcess: string[] } {
  let total = 0;
  const perProcess: string[] = [];
  for (const [pid, st] of after) {
    if (!keep(st.comm)) continue;
    const used = st.cpuMs - (before.get(pid)?.cpuMs ?? 0);
    total += used;
    perProcess.push(`${st.comm}[${pid}] ${Math.round(used)} ms`);
  }
  return { share: total / wallMs, perProcess };
}
