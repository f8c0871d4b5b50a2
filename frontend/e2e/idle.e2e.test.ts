// End-to-end: an open page that nothing happens in costs (almost) no CPU.
// The "Live" badge used to pulse forever, which repainted the header every
// frame: a core's worth in the desktop window. Here the page runs as most
// readers have it (motion not reduced) with a few posts on screen, and the
// browser's own processes are measured by the kernel's count of their CPU
// time (utime + stime), which a busy machine does not inflate the way it
// inflates wall-clock timings.
import { describe, expect, test } from 'vitest';
import {
  cpuShare,
  createPost,
  descendants,
  sharedBrowser,
  openTab,
  screenshot,
  startNode,
  waitForTitles,
  waitLive,
} from './harness';

/** How long the page is watched while idle. */
const idleMs = 30_000;
/** Time for the entry animations and the first loads to finish before watching. */
const settleMs = 3_000;
/** Most CPU an idle page may use, as a share of one core (a quiet page uses 0-1%). */
const maxIdleShare = 0.03;

const browser = sharedBrowser();

describe('an idle page', () => {
  test(`uses under ${maxIdleShare * 100}% of a core over ${idleMs / 1000} s`, { timeout: idleMs + 40_000 }, async () => {
    const node = await startNode();
    const tab = await openTab(browser(), node.writeLink, { motion: 'no-preference' });
    try {
      const titles = ['Third post', 'Second post', 'First post'];
      for (const t of [...titles].reverse()) await createPost(node, t, `The body of the ${t.toLowerCase()}.`);
      await waitLive(tab.page);
      await waitForTitles(tab.page, titles);
      await new Promise((r) => setTimeout(r, settleMs));

      // the renderer's main thread as Chromium counts it, next to the kernel's count
      const cdp = await tab.context.newCDPSession(tab.page);
      await cdp.send('Performance.enable');
      const taskSecs = async () => {
        const { metrics } = await cdp.send('Performance.getMetrics');
        return metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0;
      };

      const browserProcs = (comm: string) => comm !== 'lanfeedd';
      const before = descendants(process.pid);
      const task0 = await taskSecs();
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, idleMs));
      const wallMs = performance.now() - t0;
      const after = descendants(process.pid);
      const taskShare = ((await taskSecs()) - task0) * 1000 / wallMs;

      const procs = cpuShare(before, after, wallMs, browserProcs);
      const nodeCpu = cpuShare(before, after, wallMs, (c) => c === 'lanfeedd');
      const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
      console.log(
        `e2e: idle ${Math.round(wallMs / 1000)} s: Chromium processes ${pct(procs.share)} of a core ` +
          `(${procs.perProcess.join(', ')}); renderer main thread ${pct(taskShare)}; lanfeedd ${pct(nodeCpu.share)}`,
      );
      await screenshot(tab.page, 'e2e-idle.png');
      expect(procs.perProcess.length, 'no Chromium process found below the test').toBeGreaterThan(0);
      expect(procs.share, `Chromium's processes used ${pct(procs.share)} of a core while idle`).toBeLessThan(maxIdleShare);
      expect(taskShare, `the renderer's main thread was busy ${pct(taskShare)} of the time while idle`).toBeLessThan(
        maxIdleShare,
      );
      expect(tab.errors.map((e) => e.message)).toEqual([]);
    } finally {
      await tab.context.close();
      await node.stop();
    }
  });
});
