// A socket that stops reading overflows its queue on the node and is
// dropped, while another keeps up; once it reads again, the stock client
// reconnects and recovers the rest.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, connect, startNode } from './harness.mjs';

let node;
before(async () => {
  node = await startNode({ args: ['--http-write-rate', '-1'] }); // the test writes in a burst
});
after(async () => {
  await node?.stop({ remove: true });
});

test('a slow reader is disconnected while others keep up, then recovers', async () => {
  const fast = connect(node, { transports: ['websocket'], auth: { name: 'fast' } });
  const slow = connect(node, { transports: ['websocket'], auth: { name: 'slow' } });
  try {
    await fast.until('synced', () => fast.got.synced.length === 1);
    await slow.until('synced', () => slow.got.synced.length === 1);
    // Stop reading: what the node sends piles up in its outbox for this socket.
    slow.socket.io.engine.transport.ws._socket.pause();

    // 300 posts of 19 KB: about 5.7 MB, well beyond the node's 1 MiB queue
    // plus the kernel's buffers of a socket that does not read.
    const body = 'x'.repeat(19_000);
    const written = [];
    for (let i = 0; i < 300; i++) written.push(await api(node, 'POST', '/api/posts', { title: `big ${i}`, body }));

    await fast.until('300 posts', () => fast.got.posts.length === 300, 30_000);
    assert.deepEqual(
      fast.got.posts.map((d) => d.post.seq),
      written.map((p) => p.seq),
    );
    // The node drops it once a write to it has been stuck for its write
    // wait (10 s): hence the longer bound.
    await fast.until(
      'the slow socket leaving',
      () => fast.got.peers.some((p) => p.action === 'leave' && p.peer.name === 'slow'),
      30_000,
    );
    // Reading again, it gets what the kernel held, then the close; the
    // client reconnects and recovers the rest.
    let droppedAt;
    slow.socket.once('disconnect', () => {
      droppedAt = slow.got.posts.length;
    });
    slow.socket.io.engine.transport.ws._socket.resume();
    await slow.until('all 300 posts', () => slow.got.posts.length === 300, 30_000);
    assert.ok(droppedAt < 300, `the slow socket had ${droppedAt} of 300 posts when it was closed; want fewer`);
    assert.equal(slow.socket.recovered, true);
    assert.deepEqual(
      slow.got.posts.map((d) => d.post.seq),
      written.map((p) => p.seq),
    );
    console.log(`# the slow socket had ${droppedAt} of 300 posts when it was dropped; recovered the rest`);
  } finally {
    fast.socket.disconnect();
    slow.socket.disconnect();
  }
});
