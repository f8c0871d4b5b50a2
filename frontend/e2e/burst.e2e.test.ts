// End-to-end: the windowed feed under a burst. 2,000 posts are written as
// fast as one websocket allows while a reader's page is open at the top;
// then every post must be on the page exactly once, in feed order, with never
// more than a bounded number of cards in the DOM, and the page must keep
// answering keys. No timing is asserted: every wait is bounded and waits for
// what the reader would see.
import type { Page } from 'playwright-core';
import { describe, expect, test, type TestContext } from 'vitest';
import { connectPeer, openTab, screenshot, sharedBrowser, startNode, waitFor, waitLive, type Node, type Tab } from './harness';

const browser = sharedBrowser();

/** Posts in the burst. */
const burstSize = 2_000;
/** Most cards the page may hold at once; a 900 px viewport shows about 6. */
const maxCards = 100;
/** How long the node may take to commit the burst and the page to show it (a loaded 2-core machine). */
const burstTimeoutMs = 60_000;

declare global {
  interface Window {
    /** __cards is the largest number of cards the page held at once since watchCards. */
    __cards: number;
  }
}

/** watchCards records in window.__cards the most cards the feed ever holds at once. */
async function watchCards(page: Page): Promise<void> {
  await page.evaluate(() => {
    window.__cards = 0;
    const count = () => {
      const n = document.querySelectorAll('[role="feed"] article').length;
      if (n > window.__cards) window.__cards = n;
    };
    new MutationObserver(count).observe(document.body, { childList: true, subtree: true });
    count();
  });
}

/** Walk is what scrolling through the whole feed saw. */
interface Walk {
  ids: string[]; // by position in the feed (aria-posinset - 1); '' where none was seen
  twice: string[]; // ids seen at two positions, or twice in one look
  stalls: number[]; // scroll positions where the viewport stayed uncovered by cards
  setSize: number;
}

/**
 * walkFeed scrolls the page from the top to the end of the feed a viewport
 * at a time, and after each step waits (at most 2 s, frame by frame) until
 * cards cover the middle of the viewport, then notes every card it sees by
 * its position. A window that fails to follow the scroll shows up as a stall.
 */
function walkFeed(page: Page, maxSteps: number): Promise<Walk> {
  return page.evaluate(async (maxSteps: number) => {
    // a frame, or 100 ms if none comes, so that the walk stays bounded
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
      // a card's wrapper (the card and the space below it), or past the feed's end
      return Boolean(el?.closest('[role="feed"] [data-key]')) || !el?.closest('[role="feed"]');
    };
    const byPos = new Map<number, string>();
    const posOf = new Map<string, number>();
    const twice = new Set<string>();
    const stalls: number[] = [];
    let setSize = 0;
    window.scrollTo(0, 0);
    for (let step = 0; step < maxSteps; step++) {
      const until = performance.now() + 2_000;
      while (!covered() && performance.now() < until) await frame();
      if (!covered()) stalls.push(window.scrollY);
      const seen = new Set<string>();
      for (const a of document.querySelectorAll<HTMLElement>('[role="feed"] article[data-post-id]')) {
        const id = a.dataset.postId ?? '';
        const pos = Number(a.getAttribute('aria-posinset'));
        setSize = Number(a.getAttribute('aria-setsize'));
        if (seen.has(id)) twice.add(id);
        seen.add(id);
        const had = posOf.get(id);
        if (had !== undefined && had !== pos) twice.add(id);
        posOf.set(id, pos);
        byPos.set(pos, id);
      }
      const bottom = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2;
      if (bottom) break;
      window.scrollBy(0, Math.round(window.innerHeight * 0.8));
      await frame();
    }
    const ids: string[] = [];
    for (let i = 1; i <= Math.max(setSize, ...byPos.keys()); i++) ids.push(byPos.get(i) ?? '');
    return { ids, twice: [...twice], stalls, setSize };
  }, maxSteps);
}

/** activePost is the id of the focused card, or '' if focus is not on a card. */
function activePost(page: Page): Promise<string> {
  return page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.postId ?? '');
}

describe('windowed feed under a burst', () => {
  let node: Node;
  let tab: Tab;

  async function setup(ctx: TestContext) {
    // no write limits: the burst is one peer writing as fast as it can
    node = await startNode('e2e-burst', ['--write-rate', '-1', '--write-burst', String(burstSize)]);
    tab = await openTab(browser(), node.url);
    ctx.onTestFinished(async () => {
      if (ctx.task.result?.state === 'fail') {
        await screenshot(tab.page, 'e2e-failures/burst.png').catch(() => undefined);
        if (tab.errors.length) console.error('page errors:', tab.errors);
        console.error(`lanfeedd log:\n${node.log()}`);
      }
      await tab.context.close();
      await node.stop();
    });
  }

  test(
    `${burstSize} posts written at once all show, once each, in order, with a bounded DOM`,
    async (ctx) => {
      await setup(ctx);
      const { page } = tab;
      await waitLive(page);
      await watchCards(page);

      const peer = await connectPeer(node, 'burst');
      const sent = Array.from({ length: burstSize }, (_, i) =>
        peer.emit('posts.create', { title: `Burst ${i}`, body: `post ${i} of the burst`, author: 'burst' }, burstTimeoutMs),
      );

      // while the burst lands, the top card takes focus and j moves it on
      // (found and focused in one task: between a lookup and a focus of
      // their own, a render may push the card out of the window)
      await waitFor(
        page,
        () => {
          document.querySelector<HTMLElement>('[role="feed"] article[aria-posinset="1"]')?.focus();
          return document.activeElement?.tagName === 'ARTICLE';
        },
        undefined,
        burstTimeoutMs,
      );
      const first = await activePost(page);
      await page.keyboard.press('j');
      await waitFor(page, (was: string) => {
        const a = document.activeElement as HTMLElement | null;
        return a?.tagName === 'ARTICLE' && a.dataset.postId !== was;
      }, first);

      const acks = await Promise.all(sent);
      peer.close();
      expect(acks.filter((f) => f.type !== 'ack')).toEqual([]);
      // the feed's order: newest first, i.e. the reverse of commit order
      const want = acks.map((f) => f.data!).sort((a, b) => b.seq - a.seq).map((p) => p.id);

      // focus off the cards (a focused card stays rendered), back at the top:
      // every post is in the feed once the top card's set size says so
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await page.evaluate(() => window.scrollTo(0, 0));
      await waitFor(
        page,
        (n: number) => document.querySelector('[role="feed"] article')?.getAttribute('aria-setsize') === String(n),
        burstSize,
        burstTimeoutMs,
      );

      const walk = await walkFeed(page, 2_000);
      expect(walk.stalls).toEqual([]);
      expect(walk.twice).toEqual([]);
      expect(walk.setSize).toBe(burstSize);
      expect(walk.ids.length).toBe(burstSize);
      expect(walk.ids.filter((id) => id === '').length).toBe(0);
      expect(walk.ids).toEqual(want);
      expect(await page.evaluate(() => window.__cards)).toBeLessThan(maxCards);
      expect(tab.errors.map((e) => e.message)).toEqual([]);
    },
    180_000,
  );

  test('the window follows scrollIntoView, keeps the focused card, and j reaches a card not rendered', async (ctx) => {
    await setup(ctx);
    const { page } = tab;
    // the page is live with its (empty) first page read before the posts
    // come, so that all of them arrive as live events: a first page read in
    // the middle of the writes would leave older pages to scroll to
    await waitLive(page);
    await page.getByText('No posts yet').waitFor();
    const peer = await connectPeer(node, 'seed');
    const acks = await Promise.all(
      Array.from({ length: 300 }, (_, i) => peer.emit('posts.create', { title: `Seeded ${i}`, body: `post ${i}`, author: 'seed' }, burstTimeoutMs)),
    );
    peer.close();
    expect(acks.filter((f) => f.type !== 'ack')).toEqual([]);
    // every seeded post shown (the page applies a burst over a few renders),
    // before the reader scrolls away from the top and new posts are held back
    await waitFor(page, () => document.querySelector('[role="feed"] article[aria-posinset="1"][aria-setsize="300"]') !== null, undefined, 10_000);
    const cardAt = (pos: number) => `[role="feed"] article[aria-posinset="${pos}"]`;

    // (a) a stalled window: after scrollIntoView of the last rendered card, the next one must render
    for (let round = 0; round < 8; round++) {
      const last = await page.evaluate(() => {
        const arts = [...document.querySelectorAll<HTMLElement>('[role="feed"] article[aria-posinset]')];
        const a = arts.at(-1)!;
        a.scrollIntoView({ block: 'start' });
        return Number(a.getAttribute('aria-posinset'));
      });
      await page.locator(cardAt(last + 1)).waitFor({ state: 'attached' });
    }

    // (c) the focused card stays in the DOM, focused, while the reader scrolls far away
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.locator(cardAt(3)).waitFor({ state: 'attached' });
    await page.focus(cardAt(3));
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight / 2));
    await waitFor(page, () =>
      [...document.querySelectorAll('[role="feed"] article[aria-posinset]')].some((a) => Number(a.getAttribute('aria-posinset')) > 100),
    );
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-posinset'))).toBe('3');
    expect(await page.locator(cardAt(4)).count()).toBe(0); // its neighbour is out of the window

    // j moves the focus to that neighbour, rendering it first; k back
    await page.keyboard.press('j');
    await waitFor(page, () => document.activeElement?.getAttribute('aria-posinset') === '4');
    await page.keyboard.press('k');
    await page.keyboard.press('k');
    await waitFor(page, () => document.activeElement?.getAttribute('aria-posinset') === '2');
    expect(await page.evaluate(() => document.querySelectorAll('[role="feed"] article').length)).toBeLessThan(maxCards);
    expect(tab.errors.map((e) => e.message)).toEqual([]);
  }, 120_000);
});
