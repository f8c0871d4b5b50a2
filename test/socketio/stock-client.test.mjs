// The stock socket.io client (pinned in package.json) against a real
// lanfeedd, the way a tutorial app uses it: io(url), socket.on("posts"),
// emitWithAck, and Connection State Recovery backed by the node's seq.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, connect, createPosts, endsOn, modes, startNode } from './harness.mjs';

for (const [mode, transport] of Object.entries(modes)) {
  describe(`socket.io-client, ${mode}`, () => {
    let node;
    before(async () => {
      node = await startNode();
    });
    after(async () => {
      await node?.stop({ remove: true });
    });

    test('connects read-only, receives posts in seq order, and cannot write', async () => {
      const c = connect(node, transport);
      try {
        await c.until('synced', () => c.got.synced.length === 1);
        assert.equal(c.socket.connected, true);
        assert.equal(c.got.hello[0].canWrite, false);
        await c.until(`the ${endsOn[mode]} transport`, () => c.socket.io.engine.transport.name === endsOn[mode]);
        const written = await createPosts(node, 20, 'ordered');
        await c.until('20 posts', () => c.got.posts.length === 20);
        assert.deepEqual(
          c.got.posts.map((d) => [d.action, d.post.seq, d.post.title]),
          written.map((p) => ['create', p.seq, p.title]),
        );
        const res = await c.socket.timeout(10_000).emitWithAck('posts:create', { title: 'no token' });
        assert.equal(res.error?.code, 'unauthorized');
        assert.match(res.error.message, /auth: \{token\}/);
        assert.equal(c.socket.io.engine.transport.name, endsOn[mode]);
      } finally {
        c.socket.disconnect();
      }
    });

    test('writes with acks; every other socket gets the event, the sender only its ack', async () => {
      const w = connect(node, { ...transport, auth: { token: node.token, name: 'writer' } });
      await w.until('synced', () => w.got.synced.length === 1);
      const r = connect(node, transport); // after: the writer hears it join
      try {
        await r.until('synced', () => r.got.synced.length === 1);
        assert.equal(w.got.hello[0].canWrite, true);
        // Presence: the writer heard the reader join, in the recipe's shape.
        await w.until('a join', () => w.got.peers.some((d) => d.action === 'join' && d.peer.id === r.got.hello[0].peer.id));
        const join = w.got.peers.find((d) => d.peer.id === r.got.hello[0].peer.id);
        assert.deepEqual(Object.keys(join).sort(), ['action', 'count', 'peer']);
        assert.ok(join.count >= 2);
        const emit = (ev, data) => w.socket.timeout(10_000).emitWithAck(ev, data);

        const created = await emit('posts:create', { title: 'Lunch', body: 'at noon' });
        assert.equal(created.title, 'Lunch');
        assert.equal(created.version, 1);
        const updated = await emit('posts:update', { id: created.id, version: 1, title: 'Lunch at 12:30' });
        assert.equal(updated.version, 2);
        const deleted = await emit('posts:delete', { id: created.id, version: 2 });
        assert.equal(deleted.deleted, true);

        await r.until('3 posts', () => r.got.posts.length === 3);
        assert.deepEqual(
          r.got.posts.map((d) => [d.action, d.post.seq]),
          [
            ['create', created.seq],
            ['update', updated.seq],
            ['delete', deleted.seq],
          ],
        );
        // The sender's own writes came back as acks, not as events.
        assert.deepEqual(w.got.posts, []);

        const other = await emit('posts:create', { title: 'Coffee' });
        const errors = {
          invalid: await emit('posts:create', { title: '' }),
          conflict: await emit('posts:update', { id: other.id, version: 5, title: 'x' }),
          not_found: await emit('posts:delete', { id: 'no-such-post' }),
          bad_request: await emit('posts:upsert', { title: 'x' }),
        };
        assert.equal(errors.invalid.error.code, 'invalid');
        assert.equal(errors.invalid.error.field, 'title');
        assert.equal(errors.conflict.error.code, 'conflict');
        assert.equal(errors.conflict.error.post.id, other.id);
        assert.equal(errors.not_found.error.code, 'not_found');
        assert.equal(errors.bad_request.error.code, 'bad_request');
        assert.match(errors.bad_request.error.message, /posts:create/);
      } finally {
        w.socket.disconnect();
        r.socket.disconnect();
      }
    });

    test('a wrong token is refused with connect_error', async () => {
      const c = connect(node, { ...transport, auth: { token: 'not-the-token' } });
      try {
        await c.until('connect_error', () => c.got.errors.length === 1);
        assert.match(c.got.errors[0].message, /not this node's pairing token/);
        assert.equal(c.got.errors[0].data.code, 'unauthorized');
      } finally {
        c.socket.disconnect();
      }
    });

    test('another namespace gets the protocol error', async () => {
      const c = connect({ url: `${node.url}/admin` }, transport);
      try {
        await c.until('connect_error', () => c.got.errors.length === 1);
        assert.equal(c.got.errors[0].message, 'Invalid namespace');
      } finally {
        c.socket.disconnect();
      }
    });

    test('forced disconnect: recovered with exactly the 100 changes written meanwhile', async () => {
      const c = connect(node, transport);
      try {
        await c.until('synced', () => c.got.synced.length === 1);
        await createPosts(node, 3, 'before');
        await c.until('3 posts', () => c.got.posts.length === 3);
        c.socket.io.reconnection(false);
        c.socket.io.engine.close();
        await c.until('disconnect', () => !c.socket.connected);
        const missed = await createPosts(node, 100, 'missed');
        c.socket.io.reconnection(true);
        c.socket.connect();
        await c.until('103 posts', () => c.got.posts.length === 103);
        assert.equal(c.socket.recovered, true);
        assert.deepEqual(
          c.got.posts.slice(3).map((d) => d.post.seq),
          missed.map((p) => p.seq),
        );
        const after = await createPosts(node, 1, 'live');
        await c.until('live post', () => c.got.posts.length === 104);
        assert.equal(c.got.posts[103].post.id, after[0].id);
      } finally {
        c.socket.disconnect();
      }
    });

    test('auth {since, epoch} replays from there, then synced', async () => {
      const hello = await api(node, 'GET', '/api/info');
      const since = hello.seq - 5;
      const c = connect(node, { ...transport, auth: { since, epoch: hello.epoch } });
      try {
        await c.until('synced', () => c.got.synced.length === 1);
        assert.equal(c.got.synced[0].seq, hello.seq);
        assert.deepEqual(
          c.got.posts.map((d) => d.post.seq),
          [1, 2, 3, 4, 5].map((i) => since + i),
        );
      } finally {
        c.socket.disconnect();
      }
    });
  });

  describe(`socket.io-client, ${mode}, another database's position`, () => {
    test('auth {since, epoch} of another epoch: reset, then everything', async () => {
      const node = await startNode();
      let c;
      try {
        const written = await createPosts(node, 3, 'before connect');
        c = connect(node, { ...transport, auth: { since: 2, epoch: 'another-database' } });
        await c.until('synced', () => c.got.synced.length === 1);
        assert.equal(c.got.reset.length, 1);
        assert.deepEqual(
          c.got.posts.map((d) => d.post.id),
          written.map((p) => p.id),
        );
      } finally {
        c?.socket.disconnect();
        await node.stop({ remove: true });
      }
    });
  });

  describe(`socket.io-client, ${mode}, across node restarts`, () => {
    test('node restarted: recovered; database recreated: not recovered', async () => {
      let node = await startNode();
      const c = connect(node, transport);
      try {
        await c.until('synced', () => c.got.synced.length === 1);
        await createPosts(node, 2, 'first run');
        await c.until('2 posts', () => c.got.posts.length === 2);
        c.socket.io.reconnection(false);
        await node.stop();
        await c.until('disconnect', () => !c.socket.connected);
        node = await startNode({ dataDir: node.dataDir, port: node.port });
        const missed = await createPosts(node, 5, 'second run');
        c.socket.io.reconnection(true);
        c.socket.connect();
        await c.until('7 posts', () => c.got.posts.length === 7);
        assert.equal(c.socket.recovered, true);
        assert.deepEqual(
          c.got.posts.slice(2).map((d) => d.post.id),
          missed.map((p) => p.id),
        );

        c.socket.io.reconnection(false);
        await node.stop({ remove: true });
        await c.until('disconnect', () => !c.socket.connected);
        node = await startNode({ port: node.port });
        c.socket.io.reconnection(true);
        const synced = c.got.synced.length;
        c.socket.connect();
        await c.until('synced', () => c.got.synced.length === synced + 1);
        assert.equal(c.socket.recovered, false);
        assert.equal(c.got.posts.length, 7);
      } finally {
        c.socket.disconnect();
        await node.stop({ remove: true });
      }
    });
  });
}
