// Reference server for lanfeed's benchmark: the socket.io recipe doing
// lanfeed's job. Peers connect over the websocket transport; a publisher
// emits ("posts", {action: "create", post}, ack); the server broadcasts the
// post to every other peer and acks the sender. With --persist each post is
// first stored with better-sqlite3 in lanfeed's schema and durability
// settings (WAL, synchronous=FULL), so "with persistence" rows compare like
// with like.
//
//   node server.js [--port 0] [--persist --db FILE] [--presence]
//
// Prints "listening on http://127.0.0.1:PORT/" once ready; stops on SIGTERM.
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');
const { Server } = require('socket.io');

function parseArgs(argv) {
  const o = { port: 0, host: '127.0.0.1', persist: false, db: '', presence: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') o.port = Number(argv[++i]);
    else if (a === '--host') o.host = argv[++i];
    else if (a === '--persist') o.persist = true;
    else if (a === '--db') o.db = argv[++i];
    else if (a === '--presence') o.presence = true;
    else { console.error(`server.js: unknown argument ${a}`); process.exit(2); }
  }
  if (o.persist && !o.db) { console.error('server.js: --persist needs --db FILE'); process.exit(2); }
  return o;
}

// lanfeed's posts table (store/migrations/0001_init.sql), kept in schema.sql.
const SCHEMA = require('node:fs').readFileSync(require('node:path').join(__dirname, 'schema.sql'), 'utf8');

// openStore returns a function that durably stores one post, or null.
function openStore(file) {
  const Database = require('better-sqlite3');
  const db = new Database(file);
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(SCHEMA);
  let seq = db.prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM posts').get().s;
  const insert = db.prepare(`INSERT INTO posts (id, title, body, author, created_at, updated_at, version, deleted, seq)
    VALUES (?, ?, ?, ?, ?, ?, 1, 0, ?)`);
  // One transaction per post, as lanfeed commits each write on its own.
  const create = db.transaction((p, nowMs) => {
    insert.run(p.id, p.title, p.body, p.author, nowMs, nowMs, p.seq);
  });
  return {
    create(p, nowMs) {
      p.seq = seq + 1;
      create(p, nowMs);
      seq = p.seq; // only once committed, as lanfeed's store does
      return p;
    },
    close() { db.close(); },
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const store = opts.persist ? openStore(opts.db) : null;
  let seq = 0;
  const httpServer = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
      return;
    }
    res.writeHead(404);
    res.end();
  });
  const io = new Server(httpServer, { transports: ['websocket'], serveClient: false });

  io.on('connection', (socket) => {
    if (opts.presence) socket.broadcast.emit('peers', { action: 'join', peer: { id: socket.id }, count: io.engine.clientsCount });
    socket.on('posts', (msg, ack) => {
      if (!msg || msg.action !== 'create' || !msg.post || typeof msg.post.title !== 'string') {
        if (typeof ack === 'function') ack({ error: { code: 'invalid', message: 'expected {action:"create", post:{title, body}}' } });
        return;
      }
      const nowMs = Date.now();
      const now = new Date(nowMs).toISOString();
      let post = {
        id: crypto.randomUUID(), title: msg.post.title, body: String(msg.post.body ?? ''),
        author: String(msg.post.author || 'bench'), createdAt: now, updatedAt: now, version: 1, deleted: false, seq: 0,
      };
      if (store) {
        try {
          post = store.create(post, nowMs);
        } catch (err) {
          console.error('store failed:', err);
          if (typeof ack === 'function') ack({ error: { code: 'internal', message: 'store failed' } });
          return;
        }
      } else {
        seq += 1;
        post.seq = seq;
      }
      socket.broadcast.emit('posts', { action: 'create', post });
      if (typeof ack === 'function') ack({ seq: post.seq });
    });
    socket.on('disconnect', () => {
      if (opts.presence) socket.broadcast.emit('peers', { action: 'leave', peer: { id: socket.id }, count: io.engine.clientsCount });
    });
  });

  httpServer.listen(opts.port, opts.host, () => {
    const { address, port } = httpServer.address();
    console.log(`socket.io ${require('socket.io/package.json').version} on node ${process.version}` +
      (store ? `, persisting to ${opts.db} with better-sqlite3 ${require('better-sqlite3/package.json').version}` : ''));
    console.log(`listening on http://${address}:${port}/`);
  });

  const stop = () => {
    io.close();
    httpServer.close();
    if (store) store.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
