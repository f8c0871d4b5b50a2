// A page written like the tutorials' React client, in Debian's Chromium,
// served from another origin (allowed with --allow-origin) and connecting
// with the stock client's defaults: polling, then the upgrade.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { api, startNode } from './harness.mjs';

const files = {
  '/': ['page/index.html', 'text/html'],
  '/socket.io.esm.min.js': ['node_modules/socket.io-client/dist/socket.io.esm.min.js', 'text/javascript'],
};

let page, browser, node, server;

before(async () => {
  server = createServer(async (req, res) => {
    const f = files[new URL(req.url, 'http://x').pathname];
    if (!f) return res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': f[1] }).end(await readFile(f[0]));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const origin = `http://127.0.0.1:${server.address().port}`;
  node = await startNode({ args: ['--allow-origin', origin] });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    timeout: 30_000,
  });
  page = await browser.newPage();
  await page.goto(`${origin}/?node=${encodeURIComponent(node.url)}`);
});

after(async () => {
  await browser?.close();
  await node?.stop({ remove: true });
  server?.close();
});

/** seen writes a post over REST and returns how long until the page lists it. */
async function seen(title) {
  const start = Date.now();
  await api(node, 'POST', '/api/posts', { title });
  await page.getByRole('listitem').filter({ hasText: title }).waitFor({ timeout: 1_000 });
  return (await page.evaluate((t) => window.arrivals[t], title)) - start;
}

test('the page sees a post written over REST within 1 s, over polling and after the upgrade', async () => {
  await page.getByText(/^connected over /).waitFor({ timeout: 10_000 });
  const first = await seen('Written while connecting');
  await page.getByText('connected over websocket', { exact: true }).waitFor({ timeout: 10_000 });
  const upgraded = await seen('Written over REST');
  console.log(`# REST write to the page's list: ${first.toFixed(0)} ms right after connect, ${upgraded.toFixed(0)} ms upgraded`);
  assert.ok(first < 1_000 && upgraded < 1_000);
  assert.equal(await page.locator('li').count(), 2);
});
