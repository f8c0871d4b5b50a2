// S5 reference: better-sqlite3 committing posts one transaction each, in
// lanfeed's schema with WAL and synchronous=FULL. better-sqlite3 is
// synchronous, so "concurrent writers" in one Node process are serialised:
// this is its best case. Prints one JSON line.
//
//   node storebench.js --db FILE [--posts 2000] [--seconds 10]
'use strict';

const crypto = require('node:crypto');
const Database = require('better-sqlite3');

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const file = opt('--db', '');
const posts = Number(opt('--posts', '2000'));
const seconds = Number(opt('--seconds', '10'));
if (!file) { console.error('storebench.js: --db FILE is required'); process.exit(2); }

const db = new Database(file);
db.pragma('busy_timeout = 5000');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(require('node:fs').readFileSync(require('node:path').join(__dirname, 'schema.sql'), 'utf8'));
const insert = db.prepare(`INSERT INTO posts (id, title, body, author, created_at, updated_at, version, deleted, seq)
  VALUES (?, ?, ?, ?, ?, ?, 1, 0, ?)`);
const create = db.transaction((seq) => {
  const now = Date.now();
  insert.run(crypto.randomUUID(), 'bench', 'x'.repeat(100), 'bench', now, now, seq);
});

const start = process.hrtime.bigint();
const deadline = start + BigInt(seconds * 1e9);
let n = 0;
while (n < posts && process.hrtime.bigint() < deadline) {
  n += 1;
  create(n);
}
const secs = Number(process.hrtime.bigint() - start) / 1e9;
db.close();
console.log(JSON.stringify({ impl: 'better-sqlite3', version: require('better-sqlite3/package.json').version, posts: n, seconds: secs, postsPerSecond: n / secs }));
