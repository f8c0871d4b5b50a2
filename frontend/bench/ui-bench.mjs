#!/usr/bin/env node
// ui-bench: the web UI under load in real Chromium (issue 14's UI rows).
//
//   node frontend/bench/ui-bench.mjs --url http://127.0.0.1:PORT --token TOKEN --out FILE.json \
//     --seed 100000 [--rate 100] [--seconds 30] [--burst 5000] [--scroll 10000] \
//     [--scroll-past 100000] [--timeout-s 600]
//
// The node at --url already holds --seed posts, and accepts writes from one
// websocket at the rate asked (the driver starts lanfeedd with
// --write-rate -1). Phases, in one page, the reader at the top of the feed:
//
//   load    navigation start -> first card in the DOM; DOM nodes and JS heap
//           after a forced GC (CDP Performance.getMetrics).
//   steady  --rate creates a second for --seconds over one websocket with the
//           token, open loop; each title carries its number. A MutationObserver
//           (installed before the page's own code) notes when each card first
//           appears: commit-to-DOM latency = appearance (page clock) minus the
//           send time here (same machine clock), so it includes the node's
//           commit and fan-out. Long tasks from a PerformanceObserver.
//   burst   --burst creates sent at once, pipelined over 4 websockets with
//           the token (the steady writer's and three more): the node
//           commits one peer's emits one at a time, in order, so over one
//           websocket the burst would take that peer's commit rate (about
//           2 s for 5,000 here), while a catching-up follower's batches are
//           group-committed; over four the group commit takes them together.
//           appliedMs = first send until the card of the one with the
//           greatest seq appears at the top (the store applies changes in
//           seq order, so all before it are applied); committedMs = first
//           send until the last ack, the node's share. A key press every
//           50 ms meanwhile; input delay = the page's keydown handler time
//           minus the event's timeStamp.
//   scroll  from the top, a viewport at a time, each step waiting until cards
//           cover the viewport (older pages load as the reader nears the end),
//           until --scroll posts are above the viewport.
//   memory  then on to --scroll-past posts (a page at a time, straight to the
//           end of the feed), GC, DOM nodes and JS heap again.
//
// Everything is bounded by --timeout-s. The JSON is written with the true
// counts whatever they are (posts never shown are simply not counted); the
// exit status is non-zero only when the run could not be made.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';

const { values: flags } = parseArgs({
  options: {
    url: { type: 'string' },
    token: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string', default: '0' },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '30' },
    burst: { type: 'string', default: '5000' },
    scroll: { type: 'string', default: '10000' },
    'scroll-past': { type: 'string', default: '100000' },
    'timeout-s': { type: 'string', default: '600' },
    // a CPU profile of the page over the steady and burst phases (Chrome DevTools format)
    'cpu-profile': { type: 'string' },
  },
  strict: true,
});

function die(msg) {
  process.stderr.write(`ui-bench: ${msg}\n`);
  process.exit(1);
}

if (!flags.url || !flags.token || !flags.out) die('--url, --token and --out are required');
const num = (name) => {
  const v = Number(flags[name]);
  if (!Number.isFinite(v) || v < 0) die(`--${name} must be a number >= 0, not ${flags[name]}`);
  return v;
};
const opt = {
  url: flags.url.endsWith('/') ? flags.url : `${flags.url}/`,
  token: flags.token,
  out: flags.out,
  seed: num('seed'),
  rate: num('rate'),
  seconds: num('seconds'),
  burst: num('burst'),
  scroll: num('scroll'),
  scrollPast: num('scroll-past'),
  timeoutS: num('timeout-s'),
  cpuProfile: flags['cpu-profile'] ?? '',
};

/** now is this machine's wall clock in ms, sub-millisecond, the same clock the page's timeOrigin + now() reads. */
const now = () => performance.timeOrigin + performance.now();
const deadline = now() + opt.timeoutS * 1000;
const left = () => deadline - now();
const sleep = (ms) => new Promise((ok) => setTimeout(ok, Math.max(0, ms)));

/** Steady-phase titles are "uib-s-N", burst titles "uib-b-N": the page's observer reads them. */
const title = (phase, n) => `uib-${phase}-${n}`;
/** How long after the last steady send a post may still arrive and count as shown. */
const steadyGraceMs = 3_000;
/** How long the burst may take to be applied before the script moves on (it is then reported as not applied). */
const burstGraceMs = 30_000;
/** Websockets the burst is sent over, the steady phase's writer among them. */
const burstWriters = 4;
/** Input probe period during the burst. */
const probeEveryMs = 50;

// ---- statistics ----

function quantile(sorted, q) {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

// ---- the writer: one websocket with the token ----

async function connectWriter() {
  const u = new URL('ws', opt.url);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.searchParams.set('name', 'ui-bench');
  u.searchParams.set('token', opt.token);
  u.searchParams.set('presence', '0');
  const ws = new WebSocket(u);
  const answers = new Map(); // emit id -> resolve
  let acks = 0;
  let errors = 0;
  const codes = new Map();
  await new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error('no hello from /ws within 10 s')), 10_000);
    ws.once('error', (e) => {
      clearTimeout(t);
      fail(e);
    });
    ws.on('message', (raw) => {
      const text = raw.toString();
      if (text.startsWith('{"type":"event"')) return; // the feed's events: only answers matter here
      const f = JSON.parse(text);
      if (f.type === 'hello') {
        clearTimeout(t);
        if (!f.canWrite) fail(new Error('the node refused the token (hello.canWrite is false)'));
        else ok();
      } else if (f.type === 'ack' || f.type === 'error') {
        if (f.type === 'ack') acks++;
        else {
          errors++;
          codes.set(f.code, (codes.get(f.code) ?? 0) + 1);
        }
        answers.get(f.id)?.(f.type === 'ack' ? f.seq : 0);
        answers.delete(f.id);
      }
    });
  });
  // a writer the node closes (1013 when it reads too slowly) leaves its
  // emits unanswered: they settle as lost, so that no phase waits for them
  let lost = 0;
  let closed = null;
  ws.on('close', (code) => {
    closed = code;
    lost += answers.size;
    for (const settle of answers.values()) settle(0);
    answers.clear();
  });
  let nextId = 0;
  return {
    /** send emits one create; the returned promise settles when it is answered, with the seq of its ack (0: an error). */
    send(t) {
      const id = ++nextId;
      if (closed !== null) {
        lost++;
        return Promise.resolve(0);
      }
      const answered = new Promise((ok) => answers.set(id, ok));
      ws.send(JSON.stringify({ type: 'emit', id, event: 'posts.create', data: { title: t, body: `${t} ui-bench`, author: 'ui-bench' } }));
      return answered;
    },
    stats: () => ({ acks, errors, lost, closed, codes: Object.fromEntries(codes) }),
    close: () => ws.close(1000, 'done'),
  };
}

// ---- what the page records (runs before the app's own code) ----

function pageProbe() {
  const b = {
    seen: {}, // title -> first time its card was in the DOM (epoch ms)
    firstCard: 0, // performance.now() when the first card appeared
    longTasks: [], // [epoch start ms, duration ms]
    keyDelays: [], // [epoch ms, delay ms]
  };
  window.__uib = b;
  const re = /^uib-[sb]-\d+$/;
  const note = (root) => {
    const arts = root.tagName === 'ARTICLE' ? [root] : root.querySelectorAll('article');
    if (arts.length === 0) return;
    const t = performance.timeOrigin + performance.now();
    if (!b.firstCard) b.firstCard = performance.now();
    for (const a of arts) {
      const h = a.querySelector('h2')?.textContent ?? '';
      if (re.test(h) && !(h in b.seen)) b.seen[h] = t;
    }
  };
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) if (n.nodeType === 1) note(n);
  }).observe(document, { childList: true, subtree: true });
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longTasks.push([performance.timeOrigin + e.startTime, e.duration]);
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    // no longtask entries in this browser: longTasks stays empty
  }
  addEventListener(
    'keydown',
    (e) => {
      if (e.key === 'Shift') b.keyDelays.push([performance.timeOrigin + performance.now(), performance.now() - e.timeStamp]);
    },
    { capture: true },
  );
}

// ---- the run ----

async function main() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-renderer-backgrounding', '--disable-background-timer-throttling', '--enable-precise-memory-info'],
    timeout: 30_000,
  });
  const result = {
    seed: opt.seed,
    steady: { rate: opt.rate, seconds: opt.seconds, sent: 0, shown: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, samplesMs: [], longTasks: 0, longTasksOver50: 0, longestTaskMs: 0 },
    burst: { changes: opt.burst, shown: 0, appliedMs: 0, committedMs: 0, inputP99Ms: 0, inputMaxMs: 0, longestTaskMs: 0 },
    load: { firstPageMs: 0 },
    scroll: { posts: 0, seconds: 0 },
    memory: { scrolledPast: 0, domFirst: 0, domEnd: 0, heapFirstMB: 0, heapEndMB: 0 },
  };
  const notes = [];
  let phase = 'load';
  // The last resort of --timeout-s: a browser call that never returns still
  // ends the run, with the JSON of what was measured and a non-zero exit.
  const watchdog = setTimeout(() => {
    notes.push(`timed out in phase ${phase}`);
    result.notes = notes;
    writeFileSync(opt.out, `${JSON.stringify(result, null, 1)}\n`);
    die(`the run exceeded --timeout-s ${opt.timeoutS} (+60 s) in phase ${phase}; ${opt.out} holds what was measured`);
  }, Math.max(0, deadline - now()) + 60_000);
  watchdog.unref();
  try {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    context.setDefaultTimeout(30_000);
    await context.addInitScript(pageProbe);
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('crash', () => notes.push(`the page crashed in phase ${phase}`));
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const memory = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      await cdp.send('HeapProfiler.collectGarbage');
      const { metrics } = await cdp.send('Performance.getMetrics');
      const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
      return { nodes: m.Nodes ?? 0, heapMB: round((m.JSHeapUsedSize ?? 0) / 2 ** 20, 2) };
    };
    const probe = () => page.evaluate(() => window.__uib);
    const seenCount = (prefix) => page.evaluate((p) => Object.keys(window.__uib.seen).filter((k) => k.startsWith(p)).length, prefix);

    // load: the reader opens the feed (reading needs no token)
    await page.goto(opt.url, { timeout: Math.min(60_000, left()) });
    await page.waitForFunction(() => window.__uib.firstCard > 0, null, { timeout: Math.min(60_000, left()), polling: 'raf' });
    result.load.firstPageMs = round((await probe()).firstCard);
    // the live connection is up when the badge says Live
    await page.locator('header [role="status"]', { hasText: 'Live' }).waitFor({ timeout: Math.min(30_000, left()) });
    const first = await memory();
    result.memory.domFirst = first.nodes;
    result.memory.heapFirstMB = first.heapMB;

    phase = 'steady';
    const writer = await connectWriter();
    if (opt.cpuProfile) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
    }

    // steady: open loop at --rate for --seconds
    const sendTimes = new Map();
    const ackMs = []; // send -> ack: the node's share of commit-to-DOM
    const ackAt = new Map(); // title -> when its ack came: ack -> DOM is the page's share
    const total = Math.round(opt.rate * opt.seconds);
    const t0 = now() + 100;
    const steadyStart = t0;
    for (let i = 0; i < total; ) {
      if (left() <= 0) break;
      const due = t0 + (i * 1000) / opt.rate;
      if (now() < due) await sleep(due - now());
      while (i < total && t0 + (i * 1000) / opt.rate <= now()) {
        const t = title('s', i);
        const at = now();
        sendTimes.set(t, at);
        void writer.send(t).then(() => {
          ackAt.set(t, now());
          ackMs.push(now() - at);
        });
        i++;
      }
    }
    result.steady.sent = sendTimes.size;
    const steadyEnd = now();
    // wait until every post showed, or the grace ran out
    await page
      .waitForFunction((n) => Object.keys(window.__uib.seen).filter((k) => k.startsWith('uib-s-')).length >= n, sendTimes.size, {
        timeout: Math.max(1, Math.min(steadyGraceMs, left())),
        polling: 100,
      })
      .catch(() => notes.push('steady: not every post showed within 3 s of the last'));
    let b = await probe();
    const samples = [];
    const pageMs = [];
    for (const [t, sentAt] of sendTimes) {
      if (!(t in b.seen)) continue;
      samples.push(round(b.seen[t] - sentAt, 2));
      if (ackAt.has(t)) pageMs.push(b.seen[t] - ackAt.get(t));
    }
    pageMs.sort((x, y) => x - y);
    const sorted = [...samples].sort((x, y) => x - y);
    const steadyTasks = b.longTasks.filter(([s]) => s >= steadyStart && s <= steadyEnd + steadyGraceMs);
    Object.assign(result.steady, {
      shown: samples.length,
      p50Ms: quantile(sorted, 0.5),
      p99Ms: quantile(sorted, 0.99),
      maxMs: sorted.at(-1) ?? 0,
      samplesMs: samples,
      longTasks: steadyTasks.length,
      longTasksOver50: steadyTasks.filter(([, d]) => d > 50).length,
      longestTaskMs: round(Math.max(0, ...steadyTasks.map(([, d]) => d))),
      ackP50Ms: round(quantile([...ackMs].sort((x, y) => x - y), 0.5), 2),
      ackP99Ms: round(quantile([...ackMs].sort((x, y) => x - y), 0.99), 2),
      // ack -> card in the DOM (negative when the event beat the ack)
      pageP50Ms: round(quantile(pageMs, 0.5), 2),
      pageP99Ms: round(quantile(pageMs, 0.99), 2),
    });

    phase = 'burst';
    // burst: every create at once, pipelined over burstWriters websockets;
    // key presses every 50 ms meanwhile
    const writers = [writer, ...(await Promise.all(Array.from({ length: burstWriters - 1 }, () => connectWriter())))];
    const burstStart = now();
    let lastAck = 0;
    const acked = [];
    for (let i = 0; i < opt.burst; i++) {
      const t = title('b', i);
      acked.push(writers[i % burstWriters].send(t).then((seq) => ({ seq, t })));
    }
    // The burst is applied when the post of the greatest seq is in the DOM:
    // the store applies changes in seq order, and that post is the newest,
    // at the top of the reader's feed.
    let applied = '';
    const appliedWait = opt.burst === 0
      ? Promise.resolve()
      : Promise.all(acked)
          .then((answers) => {
            lastAck = now();
            const last = answers.reduce((a, b) => (b.seq > a.seq ? b : a));
            if (last.seq === 0) throw new Error('no create of the burst was committed');
            return page
              .waitForFunction((t) => t in window.__uib.seen, last.t, { timeout: Math.max(1, Math.min(burstGraceMs, left())), polling: 'raf' })
              .then(() => (applied = last.t));
          })
          .catch((e) => notes.push(`burst: the newest post did not show within ${burstGraceMs / 1000} s (${e.message})`));
    let probing = true;
    const presses = (async () => {
      let sent = 0;
      while (probing && left() > 0) {
        const next = now() + probeEveryMs;
        await page.keyboard.press('Shift');
        sent++;
        await sleep(next - now());
      }
      return sent;
    })();
    await appliedWait;
    // keep probing a little after the burst is applied: the last renders count too
    await sleep(500);
    probing = false;
    const pressed = await presses;
    const burstEnd = now();
    b = await probe();
    if (applied) result.burst.appliedMs = round(b.seen[applied] - burstStart);
    else notes.push('burst: appliedMs is 0 because the burst was not applied in time');
    if (lastAck) result.burst.committedMs = round(lastAck - burstStart);
    const delays = b.keyDelays.filter(([t]) => t >= burstStart && t <= burstEnd).map(([, d]) => d).sort((x, y) => x - y);
    if (delays.length < pressed) notes.push(`burst: ${pressed - delays.length} of ${pressed} key presses were not handled in the window`);
    const burstTasks = b.longTasks.filter(([s]) => s >= burstStart && s <= burstEnd);
    Object.assign(result.burst, {
      inputP99Ms: round(quantile(delays, 0.99), 2),
      inputMaxMs: round(delays.at(-1) ?? 0, 2),
      longestTaskMs: round(Math.max(0, ...burstTasks.map(([, d]) => d))),
      presses: pressed,
      writes: writers.map((w) => w.stats()),
    });
    for (const w of writers) w.close();
    if (opt.cpuProfile) {
      const { profile } = await cdp.send('Profiler.stop');
      writeFileSync(opt.cpuProfile, JSON.stringify(profile));
    }

    phase = 'scroll';
    // scroll: a viewport at a time, waiting for cards to cover it each step
    const scrollBudget = Math.max(0, left() - 60_000) / 1000; // keep a minute for the rest
    const walked = await page.evaluate(walk, { target: opt.scroll, budgetS: scrollBudget, stepMode: 'viewport' });
    result.scroll = { posts: walked.passed, seconds: round(walked.seconds, 2) };
    if (walked.passed < opt.scroll) notes.push(`scroll: stopped after ${walked.passed} posts (${walked.why})`);
    result.burst.shown = await seenCount('uib-b-');

    phase = 'memory';
    // memory: on, a page at a time, to --scroll-past posts scrolled past
    const pastBudget = Math.max(0, left() - 30_000) / 1000;
    const past = await page.evaluate(walk, { target: opt.scrollPast, budgetS: pastBudget, stepMode: 'end' });
    result.memory.scrolledPast = past.passed;
    if (past.passed < opt.scrollPast) notes.push(`memory: stopped after ${past.passed} posts scrolled past (${past.why})`);
    const end = await memory();
    result.memory.domEnd = end.nodes;
    result.memory.heapEndMB = end.heapMB;
    result.memory.cardsEnd = await page.evaluate(() => document.querySelectorAll('[role="feed"] article').length);
    if (errors.length) notes.push(`page errors: ${errors.slice(0, 5).join(' | ')}`);
  } finally {
    clearTimeout(watchdog);
    await browser.close().catch(() => undefined);
  }
  result.notes = notes;
  writeFileSync(opt.out, `${JSON.stringify(result, null, 1)}\n`);
  for (const n of notes) process.stderr.write(`ui-bench: ${n}\n`);
}

/**
 * walk runs in the page: it scrolls down until target posts are above the
 * viewport's top (by aria-posinset) or budgetS seconds pass. stepMode
 * 'viewport' moves one viewport and waits for cards to cover it; 'end' jumps
 * to the end of the document and waits for the next older page.
 */
async function walk({ target, budgetS, stepMode }) {
  // a frame, or 100 ms if no frame comes (a page that stopped producing
  // frames must not hang the walk: one run did)
  const frame = () =>
    new Promise((ok) => {
      const t = setTimeout(ok, 100);
      requestAnimationFrame(() => {
        clearTimeout(t);
        ok();
      });
    });
  const t0 = performance.now();
  const until = t0 + budgetS * 1000;
  const covered = () => {
    const el = document.elementFromPoint(innerWidth / 2, innerHeight / 2);
    return Boolean(el?.closest('[role="feed"] [data-key], [role="feed"] article')) || !el?.closest('[role="feed"]');
  };
  // passed is the position of the card at the viewport's top
  const passed = () => {
    let best = 0;
    for (const a of document.querySelectorAll('[role="feed"] article[aria-posinset]')) {
      const r = a.getBoundingClientRect();
      if (r.bottom <= 0) best = Math.max(best, Number(a.getAttribute('aria-posinset')));
    }
    return best;
  };
  const atEnd = () => /all caught up/.test(document.querySelector('[role="feed"] ~ div')?.textContent ?? '');
  let why = 'target reached';
  let last = 0;
  let stuckSince = performance.now();
  while (passed() < target) {
    if (performance.now() > until) {
      why = 'time budget spent';
      break;
    }
    if (atEnd() && window.scrollY + innerHeight >= document.documentElement.scrollHeight - 2) {
      why = 'the end of the feed';
      break;
    }
    const h = document.documentElement.scrollHeight;
    if (stepMode === 'viewport') window.scrollBy(0, innerHeight);
    else window.scrollTo(0, h);
    await frame();
    // wait for what this step needs: cards in view, or (at the end) the next page
    const stepUntil = performance.now() + 10_000;
    while (performance.now() < stepUntil) {
      const bottom = window.scrollY + innerHeight >= document.documentElement.scrollHeight - 2;
      if (covered() && (!bottom || atEnd() || document.documentElement.scrollHeight > h)) break;
      await frame();
    }
    const p = passed();
    if (p > last) {
      last = p;
      stuckSince = performance.now();
    } else if (performance.now() - stuckSince > 15_000) {
      why = 'no progress for 15 s';
      break;
    }
  }
  return { passed: passed(), seconds: (performance.now() - t0) / 1000, why };
}

main().catch((e) => die(e?.stack ?? String(e)));
