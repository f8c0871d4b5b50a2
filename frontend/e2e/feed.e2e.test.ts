// End-to-end: the web UI in Debian's Chromium against a real lanfeedd, the
// way LAN browsers use it. Each test runs its own node (fresh data dir,
// port 0) and its own browser contexts; one Chromium serves the file.
import type { Page } from 'playwright-core';
import { describe, expect, test, type TestContext } from 'vitest';
import {
  api,
  connectPeer,
  createPost,
  dropConnection,
  feedItems,
  feedTitles,
  sharedBrowser,
  listPosts,
  openTab,
  publish,
  screenshot,
  startNode,
  waitFor,
  waitForTitles,
  waitLive,
  waitWritable,
  type Node,
  type Tab,
} from './harness';

const browser = sharedBrowser();

interface Fixture {
  node: Node;
  /** open opens a page in a context of its own; url defaults to the write link. */
  open(url?: string): Promise<Tab>;
}

/**
 * setup starts a node for this test. When the test ends, its pages and node
 * are closed; if it failed, the pages are screenshotted into
 * test-artifacts/e2e-failures and the node's log is printed.
 */
async function setup(ctx: TestContext): Promise<Fixture> {
  const node = await startNode();
  const tabs: Tab[] = [];
  ctx.onTestFinished(async () => {
    if (ctx.task.result?.state === 'fail') {
      const slug = ctx.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
      for (const [i, t] of tabs.entries()) {
        await screenshot(t.page, `e2e-failures/${slug}-${i}.png`).catch(() => undefined);
        if (t.errors.length) console.error(`page ${i} errors:`, t.errors);
      }
      console.error(`lanfeedd log:\n${node.log()}`);
    }
    await Promise.allSettled(tabs.map((t) => t.context.close()));
    await node.stop();
  });
  const open = async (url = node.writeLink) => {
    const tab = await openTab(browser(), url);
    tabs.push(tab);
    return tab;
  };
  return { node, open };
}

/** socketCount is how many websockets the page has opened so far. */
function socketCount(page: Page): Promise<number> {
  return page.evaluate(() => window.__sockets.length);
}

/** noPageErrors asserts that no page threw an uncaught exception. */
function noPageErrors(...tabs: Tab[]): void {
  expect(tabs.flatMap((t) => t.errors.map((e) => e.message))).toEqual([]);
}

describe('web UI against lanfeedd', () => {
  test('a post written in page A appears at the top of page B within 1 s', async (ctx) => {
    const { node, open } = await setup(ctx);
    await createPost(node, 'An older post', 'written before the pages opened');
    const a = await open();
    const b = await open();
    await Promise.all([waitWritable(a.page), waitWritable(b.page)]);
    await waitForTitles(b.page, ['An older post']);

    const form = a.page.getByRole('form', { name: 'New post' });
    const author = await form.locator('strong').innerText(); // "Posting as <name>"
    await form.getByLabel('Title').fill('Hello from page A');
    await form.getByLabel('Text').fill('Written in one tab, read in the other.');
    const start = Date.now();
    await form.getByRole('button', { name: 'Publish' }).click();
    await waitFor(
      b.page,
      (title) => document.querySelector('[role="feed"] article h2')?.textContent === title,
      'Hello from page A',
      Math.max(1, 1000 - (Date.now() - start)),
    );
    const latency = Date.now() - start;
    expect(latency).toBeLessThanOrEqual(1000);
    console.log(`e2e: post reached page B ${latency} ms after Publish`);

    const items = await feedItems(b.page);
    expect(items.map((p) => p.title)).toEqual(['Hello from page A', 'An older post']);
    expect(items[0]).toMatchObject({ body: 'Written in one tab, read in the other.', author });
    expect(await b.page.locator('[role="feed"] article').first().isVisible()).toBe(true);
    await waitForTitles(a.page, ['Hello from page A', 'An older post']);

    const path = await screenshot(b.page, 'e2e-page-b.png');
    console.log(`e2e: page B screenshot in ${path}`);
    noPageErrors(a, b);
  });

  test('an edit and a delete made in page A reach page B', async (ctx) => {
    const { node, open } = await setup(ctx);
    await createPost(node, 'Keep me', 'stays');
    const target = await createPost(node, 'Edit me', 'old text');
    const a = await open();
    const b = await open();
    await Promise.all([waitWritable(a.page), waitWritable(b.page)]);
    await waitForTitles(b.page, ['Edit me', 'Keep me']);

    await a.page.getByRole('button', { name: 'Edit “Edit me”' }).click();
    const editor = a.page.getByRole('form', { name: 'Edit post' });
    await editor.getByLabel('Title').fill('Edited in page A');
    await editor.getByLabel('Text').fill('new text');
    await editor.getByRole('button', { name: 'Save' }).click();

    await waitForTitles(b.page, ['Edited in page A', 'Keep me']);
    const edited = (await feedItems(b.page))[0]!;
    expect(edited).toMatchObject({ id: target.id, body: 'new text' });
    const card = b.page.locator(`article[data-post-id="${target.id}"]`);
    await card.getByText('· edited').waitFor();

    await a.page.getByRole('button', { name: 'Delete “Edited in page A”' }).click();
    const confirm = a.page.getByRole('alertdialog', { name: 'Delete this post for everyone?' });
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click();

    await waitForTitles(b.page, ['Keep me']);
    await waitForTitles(a.page, ['Keep me']);
    expect((await listPosts(node)).map((p) => p.title)).toEqual(['Keep me']);
    noPageErrors(a, b);
  });

  test('a post written by a raw websocket peer appears in both pages', async (ctx) => {
    const { node, open } = await setup(ctx);
    const a = await open();
    const b = await open();
    await Promise.all([waitWritable(a.page), waitWritable(b.page)]);

    const peer = await connectPeer(node, 'robot');
    try {
      expect(peer.hello).toMatchObject({ type: 'hello', proto: 1, canWrite: true });
      const ack = await peer.emit('posts.create', { title: 'From a robot', body: 'beep boop', author: 'robot' });
      expect(ack).toMatchObject({ type: 'ack', id: 1, data: { title: 'From a robot', version: 1 } });

      for (const page of [a.page, b.page]) {
        await waitForTitles(page, ['From a robot'], 1500);
        expect((await feedItems(page))[0]).toEqual({
          id: ack.data?.id,
          title: 'From a robot',
          body: 'beep boop',
          author: 'robot',
        });
      }

      const upd = await peer.emit('posts.update', { id: ack.data?.id, version: 1, title: 'From a robot, edited' });
      expect(upd).toMatchObject({ type: 'ack', data: { version: 2 } });
      await waitForTitles(a.page, ['From a robot, edited']);
      await waitForTitles(b.page, ['From a robot, edited']);
    } finally {
      peer.close();
    }
    noPageErrors(a, b);
  });

  test('an invalid post shows the error next to its field and is not sent', async (ctx) => {
    const { node, open } = await setup(ctx);
    const a = await open();
    await waitWritable(a.page);
    const form = a.page.getByRole('form', { name: 'New post' });
    const title = form.getByLabel('Title');

    // fieldError reads the error the title field points at, and checks it sits right under the field
    const fieldError = () =>
      title.evaluate((input) => {
        const ids = (input.getAttribute('aria-describedby') ?? '').split(/\s+/);
        const err = ids.map((id) => document.getElementById(id)).find((el) => el?.getAttribute('role') === 'alert');
        if (!err) return null;
        const i = input.getBoundingClientRect();
        const e = err.getBoundingClientRect();
        return {
          text: err.textContent,
          invalid: input.getAttribute('aria-invalid'),
          sameField: input.parentElement?.contains(err) ?? false,
          below: e.top >= i.bottom - 1 && e.top - i.bottom < 40,
          visible: e.width > 0 && e.height > 0,
        };
      });

    await title.fill('x'.repeat(201));
    await form.getByLabel('Text').fill('one character too many in the title');
    await form.getByRole('button', { name: 'Publish' }).click();
    await form.getByRole('alert').waitFor();
    expect(await fieldError()).toEqual({
      text: 'The title is 1 character too long.',
      invalid: 'true',
      sameField: true,
      below: true,
      visible: true,
    });
    expect(await title.inputValue()).toHaveLength(201); // the text is kept to be fixed
    expect(await title.evaluate((el) => el === document.activeElement)).toBe(true);

    await title.fill('   ');
    expect(await fieldError()).toBeNull(); // typing clears the error
    await title.press('Control+Enter');
    await form.getByRole('alert').waitFor();
    expect(await fieldError()).toMatchObject({ text: 'Give your post a title.', invalid: 'true', sameField: true });

    expect(await listPosts(node)).toEqual([]);
    expect(await a.page.getByText('No posts yet').isVisible()).toBe(true);

    // the node refuses the same post on its own, with the field named
    const res = await api(node, 'POST', 'api/posts', { body: { title: 'x'.repeat(201), body: '' } });
    expect(res).toMatchObject({ status: 400, json: { code: 'invalid', field: 'title' } });

    await publish(a.page, 'A fixed title', 'now it goes');
    await waitForTitles(a.page, ['A fixed title']);
    expect(await fieldError()).toBeNull();
    noPageErrors(a);
  });

  test('a page opened without the token cannot write', async (ctx) => {
    const { node, open } = await setup(ctx);
    await createPost(node, 'Written by the owner');
    const r = await open(node.url);
    await waitLive(r.page);
    await waitForTitles(r.page, ['Written by the owner']);

    // no composer and no edit or delete controls; the way to unlock is offered
    expect(await r.page.getByRole('form', { name: 'New post' }).count()).toBe(0);
    expect(await r.page.getByText("You're reading along").isVisible()).toBe(true);
    expect(await r.page.getByRole('form', { name: 'Enter pairing token' }).isVisible()).toBe(true);
    expect(await r.page.locator('article button[aria-label^="Edit"], article button[aria-label^="Delete"]').count()).toBe(0);

    // still live: reading needs no token
    await createPost(node, 'Written later');
    await waitForTitles(r.page, ['Written later', 'Written by the owner']);

    // the node refuses writes without the token, from the page and from anywhere else
    const fromPage = await r.page.evaluate(async () => {
      const res = await fetch('api/posts', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ title: 'sneaky', body: '' }),
      });
      return { status: res.status, json: (await res.json()) as unknown };
    });
    expect(fromPage).toMatchObject({ status: 401, json: { code: 'unauthorized' } });
    const id = (await listPosts(node))[0]!.id;
    for (const [method, path, body] of [
      ['POST', 'api/posts', { title: 'sneaky', body: '' }],
      ['PATCH', `api/posts/${id}`, { version: 1, title: 'sneaky' }],
      ['DELETE', `api/posts/${id}?version=1`, undefined],
    ] as const) {
      for (const token of ['', 'not-the-token']) {
        const res = await api(node, method, path, { token, body });
        expect({ method, token, status: res.status, code: (res.json as { code?: string } | null)?.code }).toEqual({
          method,
          token,
          status: 401,
          code: 'unauthorized',
        });
      }
    }

    // a websocket peer without the token is told it cannot write
    const peer = await connectPeer(node, 'reader', '');
    try {
      expect(peer.hello.canWrite).toBe(false);
      expect(await peer.emit('posts.create', { title: 'sneaky', body: '' })).toMatchObject({
        type: 'error',
        code: 'unauthorized',
      });
    } finally {
      peer.close();
    }
    expect((await listPosts(node)).map((p) => p.title)).toEqual(['Written later', 'Written by the owner']);

    // a link with a wrong token ends up read-only too, and says why: above
    // the feed and in the node panel
    const w = await open(`${node.url}#token=not-the-token`);
    const why = "That token is not this node's pairing token; it may have been regenerated.";
    await w.page.locator('#feed').getByText(why).waitFor({ timeout: 10_000 });
    await w.page.getByRole('complementary', { name: 'Node' }).getByText(why).waitFor({ timeout: 10_000 });
    await waitLive(w.page);
    expect(await w.page.getByRole('form', { name: 'New post' }).count()).toBe(0);
    await waitForTitles(w.page, ['Written later', 'Written by the owner']);
    noPageErrors(r, w);
  });

  test("closing and reopening page B's connection while posts are written loses none", async (ctx) => {
    const { node, open } = await setup(ctx);
    const a = await open();
    const b = await open();
    await Promise.all([waitWritable(a.page), waitWritable(b.page)]);
    const badge = b.page.locator('header [role="status"]');
    const title = (n: number) => `Post ${String(n).padStart(2, '0')}`;
    const peer = await connectPeer(node, 'robot');

    try {
      // 1-4 from page A, with B connected
      for (let n = 1; n <= 4; n++) await publish(a.page, title(n));

      // B's socket drops and comes back by itself while 5-8 are written
      const before = await socketCount(b.page);
      await dropConnection(b.page);
      for (let n = 5; n <= 8; n++) await createPost(node, title(n));
      await waitFor(b.page, (n) => window.__sockets.length > n, before);
      await waitLive(b.page);
      await waitForTitles(b.page, [8, 7, 6, 5, 4, 3, 2, 1].map(title));

      // B goes offline: 9-16 are written (page A, REST, a raw peer) while it cannot hear
      await b.context.setOffline(true);
      await dropConnection(b.page);
      await badge.filter({ hasText: /Reconnecting|Offline/ }).waitFor();
      for (let n = 9; n <= 12; n++) await publish(a.page, title(n));
      for (let n = 13; n <= 14; n++) await createPost(node, title(n));
      for (let n = 15; n <= 16; n++) {
        expect(await peer.emit('posts.create', { title: title(n), body: '' })).toMatchObject({ type: 'ack' });
      }
      expect(await feedTitles(b.page)).toHaveLength(8); // really cut off

      // back online: 17-20 are written while B reconnects and catches up
      await b.context.setOffline(false);
      for (let n = 17; n <= 20; n++) await publish(a.page, title(n));
      await waitLive(b.page, 10_000);
    } finally {
      peer.close();
    }

    const want = Array.from({ length: 20 }, (_, i) => title(20 - i));
    await waitForTitles(b.page, want, 10_000);
    await waitForTitles(a.page, want);
    const items = await feedItems(b.page);
    expect(new Set(items.map((p) => p.id)).size).toBe(20);
    // the node's order (date, newest first) is the page's order
    const stored = await listPosts(node);
    expect(items.map((p) => p.id)).toEqual(stored.map((p) => p.id));
    const dates = stored.map((p) => p.createdAt);
    expect(dates).toEqual([...dates].sort().reverse());
    noPageErrors(a, b);
  });

  test('markup in a post is shown as text and never runs', async (ctx) => {
    const { node, open } = await setup(ctx);
    const a = await open();
    const b = await open();
    await Promise.all([waitWritable(a.page), waitWritable(b.page)]);
    const script = '<script>window.__pwned=1</script>';
    const img = '<img src=x onerror="window.__pwned=1">';

    await publish(a.page, script, img);
    const peer = await connectPeer(node, '<img src=x onerror=window.__pwned=1>');
    try {
      const ack = await peer.emit('posts.create', { title: img, body: `${script}\n<b>bold?</b>`, author: img });
      expect(ack.type).toBe('ack');
    } finally {
      peer.close();
    }

    for (const page of [a.page, b.page]) {
      await waitForTitles(page, [img, script]);
      const items = await feedItems(page);
      expect(items.map(({ title, body }) => ({ title, body }))).toEqual([
        { title: img, body: `${script}\n<b>bold?</b>` },
        { title: script, body: img },
      ]);
      expect(items[0]!.author).toBe(img);
      expect(await page.locator('[role="feed"] article').first().innerText()).toContain(img);
    }
    // give an injected image time to fail and fire onerror
    await a.page.waitForTimeout(500);
    for (const page of [a.page, b.page]) {
      expect(await page.evaluate(() => document.querySelectorAll('main img, main script, main b').length)).toBe(0);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
    }
    noPageErrors(a, b);
  });
});
