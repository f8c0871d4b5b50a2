// End-to-end: the feed keeps a bounded run of posts. A node holds 1,500
// posts before the page opens, so the page reads them a page at a time; the
// reader scrolls down past 1,200 of them (the store drops the pages far
// above), then all the way back up (the dropped pages are read back as the
// reader reaches them). Every post must be seen exactly once, at its place,
// in the node's order, with a bounded number of cards in the DOM. Every wait
// is bounded and waits for what the reader would see.
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { connectPeer, openTab, screenshot, sharedBrowser, startNode, waitFor, waitLive } from './harness';

const browser = sharedBrowser();

/** Posts on the node. */
const seeded = 1_500;
/** Posts scrolled past on the way down: far enough for the top to be dropped. */
const depth = 1_200;
/** Most cards the page may hold at once. */
const maxCards = 100;
/**
 * How far (px) a card on screen may land from where the scroll should put
 * it. A page read back or dropped above it is 50 cards, thousands of px; a
 * card re-mounted in the window's margins is laid out at its intrinsic 150 px
 * until it nears the viewport (content-visibility), and the window corrects
 * that a frame or two later: a few hundred px at most, not counted.
 */
const jumpPx = 1_000;

/** Walk is what a walk saw: ids by position (aria-posinset - 1), repeats, stalls. */
interface Walk {
  byPos: Array<[number, string]>;
  twice: string[];
  stalls: number;
  jumps: string[]; // steps where a card on screen moved otherwise than the scroll asked
  cards: number; // the most cards in the DOM at one look
  trimmed: boolean; // the feed offered newer posts to read back (its top was dropped)
  steps: number;
}

/**
 * walk scrolls a viewport (80%) at a time, down until the card at the top
 * of the viewport is past `until`, or up until the feed's head is in view;
 * after each step it waits (at most 2 s per step, frame by frame) for cards
 * to cover the viewport and for a pending page to land.
 */
function walk(page: Page, dir: 'down' | 'up', until: number, maxSteps: number): Promise<Walk> {
  return page.evaluate(
    async ({ dir, until, maxSteps, jumpPx }) => {
      const frame = () =>
        new Promise<void>((ok) => {
          const t = setTimeout(ok, 100);
          requestAnimationFrame(() => {
            clearTimeout(t);
            ok();
          });
        });
      const covered = () => {
        const el = document.elementFromPoint(window.innerWidth / 2, window.innerHeight / 2);
        return Boolean(el?.closest('[role="feed"] [data-key]')) || !el?.closest('[role="feed"]');
      };
      const busy = () => document.querySelector('[aria-label="Loading newer posts"], [aria-label="Loading older posts"]') !== null;
      const newer = () => [...document.querySelectorAll('button')].some((b) => b.textContent === 'Load newer posts');
      const byPos = new Map<number, string>();
      const posOf = new Map<string, number>();
      const twice = new Set<string>();
      let stalls = 0;
      const jumps: string[] = [];
      let mark: { id: string; want: number } | null = null;
      let cards = 0;
      let trimmed = false;
      let step = 0;
      for (; step < maxSteps; step++) {
        const wait = performance.now() + 2_000;
        while ((!covered() || busy()) && performance.now() < wait) await frame();
        if (!covered()) stalls++;
        if (mark) {
          const el = document.querySelector<HTMLElement>(`[role="feed"] article[data-post-id="${mark.id}"]`);
          const top = el?.getBoundingClientRect().top;
          if (top !== undefined && Math.abs(top - mark.want) > jumpPx) jumps.push(`step ${step}: ${Math.round(mark.want)} -> ${Math.round(top)}`);
        }
        const arts = document.querySelectorAll<HTMLElement>('[role="feed"] article[data-post-id]');
        cards = Math.max(cards, arts.length);
        trimmed ||= newer();
        const seen = new Set<string>();
        let topPos = 0;
        for (const a of arts) {
          const id = a.dataset.postId ?? '';
          const pos = Number(a.getAttribute('aria-posinset'));
          if (seen.has(id)) twice.add(id);
          seen.add(id);
          const had = posOf.get(id);
          if (had !== undefined && had !== pos) twice.add(id);
          posOf.set(id, pos);
          const was = byPos.get(pos);
          if (was !== undefined && was !== id) twice.add(id);
          byPos.set(pos, id);
          if (a.getBoundingClientRect().bottom <= 0) topPos = Math.max(topPos, pos);
        }
        if (dir === 'down' && topPos >= until) break;
        if (dir === 'up' && window.scrollY === 0 && !newer() && !busy()) break;
        // the first card on screen must move by what the scroll asks, whatever loads or goes above it
        const px = Math.round(window.innerHeight * 0.8);
        const room = dir === 'down' ? document.documentElement.scrollHeight - window.innerHeight - window.scrollY : window.scrollY;
        const by = Math.min(px, room) * (dir === 'down' ? 1 : -1);
        const onScreen = [...arts].find((a) => a.getBoundingClientRect().top >= 0);
        mark = onScreen ? { id: onScreen.dataset.postId ?? '', want: onScreen.getBoundingClientRect().top - by } : null;
        window.scrollBy(0, by);
        await frame();
      }
      return { byPos: [...byPos], twice: [...twice], stalls, jumps, cards, trimmed, steps: step };
    },
    { dir, until, maxSteps, jumpPx },
  );
}

describe('bounded feed', () => {
  test(`scrolling ${depth} posts down and back up shows every post once, in order, with the top dropped and read back`, async (ctx) => {
    const node = await startNode('e2e-window', ['--write-rate', '-1', '--write-burst', String(seeded)]);
    const peer = await connectPeer(node, 'seed');
    const acks = await Promise.all(
      Array.from({ length: seeded }, (_, i) => peer.emit('posts.create', { title: `Seeded ${i}`, body: `post ${i}`, author: 'seed' }, 60_000)),
    );
    peer.close();
    expect(acks.filter((f) => f.type !== 'ack')).toEqual([]);
    const want = acks.map((f) => f.data!).sort((a, b) => b.seq - a.seq).map((p) => p.id);

    const tab = await openTab(browser(), node.url);
    ctx.onTestFinished(async () => {
      if (ctx.task.result?.state === 'fail') {
        await screenshot(tab.page, 'e2e-failures/window.png').catch(() => undefined);
        if (tab.errors.length) console.error('page errors:', tab.errors);
      }
      await tab.context.close();
      await node.stop();
    });
    const { page } = tab;
    await waitLive(page);
    await waitFor(page, () => document.querySelector('[role="feed"] article[aria-posinset="1"]') !== null);

    const down = await walk(page, 'down', depth, 2_000);
    expect(down.stalls).toBe(0);
    expect(down.jumps).toEqual([]);
    expect(down.twice).toEqual([]);
    expect(down.trimmed).toBe(true);
    expect(down.cards).toBeLessThan(maxCards);
    // the first card rendered is far below the head: the top was dropped
    const firstPos = await page.evaluate(() => Number(document.querySelector('[role="feed"] article')?.getAttribute('aria-posinset')));
    expect(firstPos).toBeGreaterThan(300);

    const up = await walk(page, 'up', 0, 2_000);
    expect(up.stalls).toBe(0);
    expect(up.jumps).toEqual([]);
    expect(up.twice).toEqual([]);
    expect(up.cards).toBeLessThan(maxCards);
    // every position from the head to the depth reached, each once, in the node's order
    const seen = new Map([...down.byPos, ...up.byPos]);
    const reached = Math.max(...seen.keys());
    expect(reached).toBeGreaterThanOrEqual(depth);
    const ids = Array.from({ length: reached }, (_, i) => seen.get(i + 1) ?? '');
    expect(ids.filter((id) => id === '')).toEqual([]);
    expect(ids).toEqual(want.slice(0, reached));
    for (const [pos, id] of up.byPos) expect(down.byPos.find(([p]) => p === pos)?.[1] ?? id).toBe(id);
    expect(await page.evaluate(() => window.scrollY)).toBe(0);

    // down again, then the pill: it reads the head again and goes up to it
    const again = await walk(page, 'down', depth, 2_000);
    expect(again.trimmed).toBe(true);
    await page.getByRole('button', { name: 'Back to the top' }).click();
    await waitFor(
      page,
      () =>
        window.scrollY === 0 &&
        document.querySelector('[role="feed"] article')?.getAttribute('aria-posinset') === '1' &&
        ![...document.querySelectorAll('button')].some((b) => /Load newer posts|Back to the top/.test(b.textContent ?? '')),
      undefined,
      10_000,
    );
    const head = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('[role="feed"] article[data-post-id]')].slice(0, 10).map((a) => a.dataset.postId),
    );
    expect(head).toEqual(want.slice(0, 10));
    expect(tab.errors.map((e) => e.message)).toEqual([]);
  }, 180_000);
});
