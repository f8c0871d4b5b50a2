// End-to-end: two real lanfeedd nodes on loopback, A and B, and B's web page
// in Debian's Chromium with B's pairing token. The page follows A by its
// address in the nodes section; a post written on A then shows on B's page,
// marked with A's name, within a second; the nodes section shows A followed
// and live; Unfollow takes A's posts off the page again.
import { describe, expect, test } from 'vitest';
import { createPost, openTab, screenshot, sharedBrowser, startNode, waitFor, waitWritable, type Tab } from './harness';

const browser = sharedBrowser();

/** Longest a post of a followed node may take from A's commit to B's page (ms): the figure. */
const maxDelayMs = 1_000;
/** How long following may take until A is live (connect, hello, catch-up of nothing, a poll). */
const liveWithinMs = 10_000;

describe('two nodes in the web UI', () => {
  test('B follows A by address; A\'s post shows on B\'s page within 1 s with A\'s name; Unfollow removes it', async (ctx) => {
    const a = await startNode('node-a');
    const b = await startNode('node-b').catch(async (e: unknown) => {
      await a.stop();
      throw e;
    });
    const tabs: Tab[] = [];
    ctx.onTestFinished(async () => {
      if (ctx.task.result?.state === 'fail') {
        for (const t of tabs) {
          await screenshot(t.page, 'e2e-failures/mesh.png').catch(() => undefined);
          if (t.errors.length) console.error('page errors:', t.errors);
        }
        console.error(`node A log:\n${a.log()}\nnode B log:\n${b.log()}`);
      }
      await Promise.allSettled(tabs.map((t) => t.context.close()));
      await Promise.all([a.stop(), b.stop()]);
    });

    await createPost(b, 'Written on B');
    const tab = await openTab(browser(), b.writeLink);
    tabs.push(tab);
    const p = tab.page;
    await waitWritable(p);

    // follow A the way a user types it: host:port
    const nodes = p.getByRole('region', { name: /^Nodes/ });
    const address = new URL(a.url).host;
    const form = nodes.getByRole('form', { name: 'Add a node by address' });
    await form.getByLabel('Add a node by address').fill(address);
    await form.getByRole('button', { name: 'Follow' }).click();
    const rowA = nodes.locator('li[data-state]', { hasText: 'node-a' });
    await rowA.and(p.locator('[data-state="live"]')).waitFor({ timeout: liveWithinMs });
    expect(await rowA.textContent()).toContain('live');
    expect(await rowA.textContent()).toContain(address);

    // the page notes when the title first shows, on its own clock (the same as this process's)
    await p.evaluate(() => {
      const w = window as unknown as { __seen: Record<string, number> };
      w.__seen = {};
      new MutationObserver(() => {
        for (const h of document.querySelectorAll('[role="feed"] article h2')) {
          const t = h.textContent ?? '';
          w.__seen[t] ??= Date.now();
        }
      }).observe(document.body, { childList: true, subtree: true, characterData: true });
    });
    const title = `From A ${Date.now() % 100000}`;
    const t0 = Date.now();
    await createPost(a, title, 'replicated to B');
    await waitFor(p, (t: string) => Boolean((window as unknown as { __seen: Record<string, number> }).__seen[t]), title, 5_000);
    const seenAt = await p.evaluate((t) => (window as unknown as { __seen: Record<string, number> }).__seen[t]!, title);
    const delay = seenAt - t0;
    console.log(`e2e: a post written on A showed on B's page ${delay} ms after the POST to A (limit ${maxDelayMs} ms)`);
    expect(delay, `A's post took ${delay} ms to show on B's page`).toBeLessThan(maxDelayMs);

    // marked with A's name, not as B's own, and with no edit or delete
    const card = p.getByRole('article', { name: title });
    expect(await card.locator('[data-node-name]').getAttribute('data-node-name')).toBe('node-a');
    expect(await card.getByText('mine', { exact: true }).count()).toBe(0);
    expect(await card.getByRole('button', { name: /^(Edit|Delete) / }).count()).toBe(0);
    const own = p.getByRole('article', { name: 'Written on B' });
    expect(await own.locator('[data-node-name]').getAttribute('data-node-name')).toBe('node-b');
    expect(await own.getByText('mine', { exact: true }).count()).toBe(1);

    // the filter narrows the feed to A's posts and back
    const filter = p.getByRole('group', { name: 'Show posts from' });
    await filter.getByRole('button', { name: 'node-a' }).click();
    await waitFor(p, () => document.querySelectorAll('[role="feed"] article').length === 1);
    await filter.getByRole('button', { name: 'All' }).click();
    await waitFor(p, () => document.querySelectorAll('[role="feed"] article').length === 2);
    await screenshot(p, 'e2e-mesh.png');

    // Unfollow, confirmed: A's post leaves the page, B's stays, A leaves the list
    await nodes.getByRole('button', { name: 'Unfollow node-a' }).click();
    await nodes.getByRole('alertdialog').getByRole('button', { name: 'Unfollow' }).click();
    await waitFor(p, (t: string) => {
      const titles = Array.from(document.querySelectorAll('[role="feed"] article h2')).map((h) => h.textContent);
      return !titles.includes(t) && titles.includes('Written on B');
    }, title);
    await rowA.waitFor({ state: 'detached' });
    expect(tab.errors.map((e) => e.message)).toEqual([]);
  });
});
