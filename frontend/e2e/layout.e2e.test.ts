// End-to-end: the page's layout and focus as a reader meets them, in
// Debian's Chromium against a real lanfeedd: one scrollbar, a node drawer
// that opens at its top, tooltips that keep off the text, and the focus
// where the next keystroke belongs.
import type { Page } from 'playwright-core';
import { describe, expect, test, type TestContext } from 'vitest';
import {
  createPost,
  sharedBrowser,
  openTab,
  screenshot,
  startNode,
  waitForTitles,
  waitWritable,
  type Node,
  type TabOptions,
} from './harness';

const browser = sharedBrowser();

const titles = ['Fifth post', 'Fourth post', 'Third post', 'Second post', 'First post'];

/** page starts a node with five posts and opens the write link in a tab of its own; both close when the test ends. */
async function page(ctx: TestContext, opts: TabOptions = {}): Promise<{ node: Node; page: Page }> {
  const node = await startNode('layout-node');
  const tab = await (async () => {
    // written before the page opens, so that none of them is still sliding in
    for (const t of [...titles].reverse()) await createPost(node, t, `The text of the ${t.toLowerCase()}.`);
    return openTab(browser(), node.writeLink, opts);
  })().catch(async (e: unknown) => {
    await node.stop();
    throw e;
  });
  ctx.onTestFinished(async () => {
    if (ctx.task.result?.state === 'fail') {
      const slug = ctx.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
      await screenshot(tab.page, `e2e-failures/${slug}.png`).catch(() => undefined);
    }
    await tab.context.close();
    await node.stop();
  });
  await waitWritable(tab.page);
  await waitForTitles(tab.page, titles);
  return { node, page: tab.page };
}

/** Box is an element's place in the viewport. */
interface Box {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

function box(page: Page, selector: string): Promise<Box | null> {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    if (!el) return null;
    const r = el.getBoundingClientRect();
    return { top: r.top, bottom: r.bottom, left: r.left, right: r.right };
  }, selector);
}

function overlaps(a: Box, b: Box): boolean {
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}

/** visibleTooltips are the boxes of the tooltips on screen. */
function visibleTooltips(page: Page): Promise<Box[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('[role="tooltip"]'))
      .filter((el) => getComputedStyle(el).visibility === 'visible')
      .map((el) => {
        const r = el.getBoundingClientRect();
        return { top: r.top, bottom: r.bottom, left: r.left, right: r.right };
      }),
  );
}

function activeLabel(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return '<body>';
    const id = el.id;
    return (id && document.querySelector(`label[for="${id}"]`)?.textContent) || el.tagName.toLowerCase();
  });
}

describe('layout', () => {
  test('a wide window has one scrollbar: the side panel scrolls with the page', async (ctx) => {
    const { page: p } = await page(ctx, { viewport: { width: 1100, height: 600 } });
    const panel = await p.evaluate(() => {
      const a = document.getElementById('node-panel')!;
      return { scrollHeight: a.scrollHeight, clientHeight: a.clientHeight, overflowY: getComputedStyle(a).overflowY };
    });
    // a panel that scrolls on its own is a second scrollbar beside the page's
    expect(panel.scrollHeight, `the side panel scrolls on its own (${JSON.stringify(panel)})`).toBeLessThanOrEqual(
      panel.clientHeight + 1,
    );

    // the wheel over the panel scrolls the page until the panel's end is in view
    const aside = (await box(p, '#node-panel'))!;
    await p.mouse.move((aside.left + aside.right) / 2, 300);
    for (let i = 0; i < 10; i++) await p.mouse.wheel(0, 300);
    await p.waitForTimeout(300);
    const end = (await box(p, '#node-panel'))!;
    const viewport = p.viewportSize()!;
    expect(end.bottom, 'the end of the side panel is below the window').toBeLessThanOrEqual(viewport.height);
    await screenshot(p, 'e2e-layout-wide.png');
  });

  test('at 400x520 the node drawer opens at its top, with the LAN address in view, and keeps the page still', async (ctx) => {
    const { node, page: p } = await page(ctx, { viewport: { width: 400, height: 520 } });
    const url = p.getByRole('button', { name: `Show QR code for ${node.url}` });
    const drawerTop = () => p.evaluate(() => document.getElementById('node-panel')!.scrollTop);
    const pageTop = () => p.evaluate(() => window.scrollY);
    const inView = async () => {
      const b = await url.boundingBox();
      return Boolean(b && b.y >= 0 && b.y + b.height <= 520);
    };

    await p.getByRole('button', { name: /^Node details/ }).click();
    await p.waitForTimeout(400); // the slide-in
    expect(await drawerTop()).toBe(0);
    expect(await inView(), 'the LAN address is out of view when the drawer opens').toBe(true);
    await screenshot(p, 'e2e-layout-drawer.png');

    // scrolled to its end, the drawer takes the wheel and the page behind stays put
    await p.mouse.move(200, 300);
    for (let i = 0; i < 10; i++) await p.mouse.wheel(0, 400);
    await p.waitForTimeout(300);
    expect(await drawerTop()).toBeGreaterThan(0);
    expect(await pageTop(), 'scrolling the drawer scrolled the page behind it').toBe(0);

    // closed and opened again, it is back at its top
    await p.getByRole('button', { name: 'Close node panel' }).click();
    await p.getByRole('button', { name: /^Node details/ }).click();
    await p.waitForTimeout(400);
    expect(await drawerTop()).toBe(0);
    expect(await inView(), 'the LAN address is out of view when the drawer opens again').toBe(true);
  });

  test("the Edit tooltip keeps off the post's title, and is gone while it is edited", async (ctx) => {
    const { page: p } = await page(ctx);
    const card = p.locator('[role="feed"] article').first();
    const edit = card.getByRole('button', { name: 'Edit “Fifth post”' });
    expect(await edit.getAttribute('title'), 'a native tooltip outlives the click').toBeNull();
    await card.hover();
    await edit.hover();
    // :hover applies with the next frame
    await expect.poll(async () => (await visibleTooltips(p)).length).toBe(1);
    const tips = await visibleTooltips(p);
    const title = (await box(p, '[role="feed"] article h2'))!;
    expect(overlaps(tips[0]!, title), 'the tooltip covers the title').toBe(false);

    await edit.click();
    const field = card.getByRole('form', { name: 'Edit post' }).getByLabel('Title');
    await field.waitFor();
    const fieldBox = (await field.boundingBox())!;
    const fb = { top: fieldBox.y, bottom: fieldBox.y + fieldBox.height, left: fieldBox.x, right: fieldBox.x + fieldBox.width };
    for (const t of await visibleTooltips(p)) expect(overlaps(t, fb), 'a tooltip covers the title being edited').toBe(false);
    await screenshot(p, 'e2e-layout-editing.png');
  });
});

describe('focus and messages', () => {
  test('after Publish, by button or by Ctrl+Enter in the text, the title has the focus', async (ctx) => {
    const { page: p } = await page(ctx);
    const form = p.getByRole('form', { name: 'New post' });
    const title = form.getByLabel('Title');

    await title.fill('By the button');
    await form.getByLabel('Text').fill('one');
    await form.getByRole('button', { name: 'Publish' }).click();
    await waitForTitles(p, ['By the button', ...titles]);
    await p.waitForFunction(() => !document.querySelector('form[aria-label="New post"] fieldset')!.hasAttribute('disabled'));
    await expect.poll(() => activeLabel(p)).toBe('Title');

    await title.fill('By the keyboard');
    await form.getByLabel('Text').fill('two');
    await form.getByLabel('Text').press('Control+Enter');
    await waitForTitles(p, ['By the keyboard', 'By the button', ...titles]);
    await expect.poll(() => activeLabel(p)).toBe('Title');
  });

  test('"Give your post a title." goes once the writer turns to editing a post', async (ctx) => {
    const { page: p } = await page(ctx);
    const form = p.getByRole('form', { name: 'New post' });
    await form.getByRole('button', { name: 'Publish' }).click();
    const missing = p.getByText('Give your post a title.');
    await missing.waitFor();

    const card = p.locator('[role="feed"] article').nth(1);
    await card.hover();
    await card.getByRole('button', { name: 'Edit “Fourth post”' }).click();
    await card.getByRole('form', { name: 'Edit post' }).waitFor();
    expect(await missing.count(), 'the composer still asks for a title while another post is edited').toBe(0);
  });
});
