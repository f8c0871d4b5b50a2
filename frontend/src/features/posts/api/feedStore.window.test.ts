import { describe, expect, it } from 'vitest';
import type { Page, Post, PostsEnvelope } from '../../../transport/types';
import { ev, post } from './feedFixtures';
import { FeedStore, comparePosts, keepBeyond, trimBeyond } from './feedStore';

const pageSize = 50;

// fakeNode pages its posts like the node: cursors are positions (opaque to
// the store), before pages go older, after pages go newer, both newest first.
function fakeNode(n: number) {
  const posts = Array.from({ length: n }, (_, i) => post(n - i)); // newest first
  let seq = n;
  const cursor = (p: Post) => JSON.stringify([p.createdAt, p.id]);
  const position = (c: string): Post => {
    const [createdAt, id] = JSON.parse(c) as [string, string];
    return { ...post(0), createdAt, id };
  };
  return {
    posts,
    get seq() {
      return seq;
    },
    before(c: string, limit = pageSize): Page {
      const older = c ? posts.filter((p) => comparePosts(p, position(c)) > 0) : posts;
      const page = older.slice(0, limit);
      const first = page[0];
      const last = page.at(-1);
      return {
        posts: page,
        next: last && older.length > limit ? cursor(last) : '',
        prev: c === '' ? '' : first ? cursor(first) : c,
        seq,
      };
    },
    after(c: string, limit = pageSize): Page {
      const newer = posts.filter((p) => comparePosts(p, position(c)) < 0);
      const page = newer.slice(-limit);
      return {
        posts: page,
        next: page.length ? cursor(page.at(-1)!) : '',
        prev: newer.length > limit ? cursor(page[0]!) : '',
        seq,
      };
    },
    // change commits a new state of a post and returns its event
    change(p: Post): PostsEnvelope {
      seq++;
      const i = posts.findIndex((x) => x.id === p.id);
      if (p.deleted) posts.splice(i, 1);
      else if (i >= 0) posts[i] = p;
      else {
        posts.push(p);
        posts.sort(comparePosts);
      }
      return ev(seq, p, p.deleted ? 'delete' : p.version === 1 ? 'create' : 'update');
    },
  };
}

type Node = ReturnType<typeof fakeNode>;

const ids = (ps: readonly Post[]) => ps.map((p) => p.id);

// scrolledDown reads the head and older pages until the run holds at least n posts.
function scrolledDown(node: Node, n: number): FeedStore {
  const s = new FeedStore(() => {});
  s.load(node.before(''), 'E1');
  while (s.getSnapshot().posts.length < n && s.nextCursor) s.appendPage(node.before(s.nextCursor));
  return s;
}

// readerAt trims the store for a reader who sees posts i..i+5 of the run.
function readerAt(s: FeedStore, i: number, keep: string[] = []): boolean {
  const list = s.getSnapshot().posts;
  const j = Math.min(list.length - 1, i + 5);
  return s.trim(list[i]!.id, list[j]!.id, keep);
}

// expectRun checks that the run is exactly the node's posts from snap.above on.
function expectRun(s: FeedStore, node: Node) {
  const snap = s.getSnapshot();
  expect(ids(snap.posts)).toEqual(ids(node.posts.slice(snap.above, snap.above + snap.posts.length)));
}

describe('FeedStore window', () => {
  it('trims the top far from the reader, then reads it back page by page: every post once, in order', () => {
    const node = fakeNode(3000);
    const s = scrolledDown(node, 1500);
    expect(readerAt(s, 1400)).toBe(true);
    let snap = s.getSnapshot();
    expect(snap.hasNewer).toBe(true);
    expect(snap.above).toBeGreaterThan(0);
    expect(s.prevCursor).not.toBe('');
    // at least keepBeyond kept above the reader, and less than a page more
    const reader = node.posts[1400]!.id;
    const kept = ids(snap.posts).indexOf(reader);
    expect(kept).toBeGreaterThanOrEqual(keepBeyond);
    expect(kept).toBeLessThan(keepBeyond + pageSize);
    expectRun(s, node);

    // the reader goes back up: a newer page at a time, the far bottom trimmed
    let most = 0;
    while (s.prevCursor) {
      s.beginNewer();
      s.prependPage(node.after(s.prevCursor));
      s.endNewer();
      readerAt(s, 0);
      expectRun(s, node);
      most = Math.max(most, s.getSnapshot().posts.length);
    }
    snap = s.getSnapshot();
    expect(snap.hasNewer).toBe(false);
    expect(snap.above).toBe(0);
    expect(snap.hasMore).toBe(true);
    expect(most).toBeLessThanOrEqual(trimBeyond + keepBeyond + 2 * pageSize);
    expect(snap.posts.length).toBeLessThan(trimBeyond + 2 * pageSize);
    expect(ids(snap.posts)).toEqual(ids(node.posts.slice(0, snap.posts.length)));

    // and down again from the trimmed bottom
    while (s.getSnapshot().posts.length < 1200) s.appendPage(node.before(s.nextCursor));
    expectRun(s, node);
  });

  it('stays bounded while the reader scrolls through the whole feed', () => {
    const node = fakeNode(5000);
    const s = scrolledDown(node, 50);
    let most = 0;
    while (s.nextCursor) {
      s.appendPage(node.before(s.nextCursor));
      readerAt(s, Math.max(0, s.getSnapshot().posts.length - 10));
      most = Math.max(most, s.getSnapshot().posts.length);
    }
    expect(most).toBeLessThanOrEqual(trimBeyond + 2 * pageSize);
    const snap = s.getSnapshot();
    expect(snap.above + snap.posts.length).toBe(5000);
    expectRun(s, node);
  });

  it('never trims past a post that must stay', () => {
    const node = fakeNode(2000);
    const s = scrolledDown(node, 1500);
    const focused = node.posts[10]!.id;
    expect(readerAt(s, 1400, [focused])).toBe(false);
    expect(s.get(focused)).toBeDefined();
    expect(s.getSnapshot().hasNewer).toBe(false);
    // and at the bottom: a reader at the top with an editor open far below
    const s2 = scrolledDown(node, 1500);
    const editing = node.posts[1450]!.id;
    expect(readerAt(s2, 0, [editing])).toBe(false);
    expect(s2.get(editing)).toBeDefined();
  });

  it('does not trim the top of a node that cannot read newer pages', () => {
    const node = fakeNode(2000);
    const s = new FeedStore(() => {});
    // such a node's pages carry no prev
    const old = (p: Page): Page => ({ posts: p.posts, next: p.next, seq: p.seq }) as unknown as Page;
    s.load(old(node.before('')), 'E1');
    while (s.getSnapshot().posts.length < 1500) s.appendPage(old(node.before(s.nextCursor)));
    expect(readerAt(s, 1400)).toBe(false);
    expect(s.getSnapshot().posts).toHaveLength(1500);
  });

  it('drops changes above the top but counts their seq', () => {
    const node = fakeNode(2000);
    const s = scrolledDown(node, 1500);
    readerAt(s, 1400);
    const { seq, above } = s.getSnapshot();
    expect(seq).toBe(2000);
    const edited = node.posts[5]!;
    expect(s.applyEvent(node.change({ ...edited, title: 'edited', version: 2 }))).toBe('above');
    expect(s.applyEvent(node.change(post(2001)))).toBe('above');
    expect(s.getSnapshot().seq).toBe(seq + 2);
    expect(s.getSnapshot().above).toBe(above + 1); // the new post
    expect(s.get(edited.id)).toBeUndefined();
    // not a gap: the next change applies
    const inRun = s.getSnapshot().posts[10]!;
    expect(s.applyEvent(node.change({ ...inRun, title: 'in the run', version: 2 }))).toBe('applied');
    expect(s.get(inRun.id)?.title).toBe('in the run');
  });

  it('keeps changes above the top while a newer page is read, and applies those the page is too old for', () => {
    const node = fakeNode(2000);
    const s = scrolledDown(node, 1500);
    readerAt(s, 1400);
    s.beginNewer();
    // a replicated post, created long ago, committed just before the read
    const newer = node.after(s.prevCursor).posts;
    const early = node.change(post(Number(newer[2]!.title.split(' ')[1]) + 0.5, { title: 'replicated' }));
    const page = node.after(s.prevCursor); // read now, at node.seq
    // committed after the read
    const late = page.posts[3]!;
    const edit = node.change({ ...late, title: 'edited after the read', version: 2 });
    const gone = page.posts[7]!;
    const del = node.change({ ...gone, title: '', deleted: true, version: 2 });
    // all three delivered while the page is on its way
    expect(s.applyEvent(early)).toBe('above');
    expect(s.applyEvent(edit)).toBe('above');
    expect(s.applyEvent(del)).toBe('applied');
    s.prependPage(page);
    s.endNewer();
    expect(s.get(late.id)?.title).toBe('edited after the read');
    expect(s.get(gone.id)).toBeUndefined();
    expect(s.get(early.data.post.id)?.title).toBe('replicated');
    expectRun(s, node);
  });

  it('forgets what it kept once no newer page is being read', () => {
    const node = fakeNode(2000);
    const s = scrolledDown(node, 1500);
    readerAt(s, 1400);
    const cursor = s.prevCursor;
    s.beginNewer();
    const p = node.after(cursor).posts[0]!;
    s.applyEvent(node.change({ ...p, title: 'seen while reading', version: 2 }));
    s.endNewer(); // the read failed
    s.beginNewer();
    s.prependPage(node.after(cursor)); // read again: it has the edit
    s.endNewer();
    expect(s.get(p.id)?.title).toBe('seen while reading');
    expectRun(s, node);
  });

  it('loadHead makes the first page the run again, seq untouched, changes during the read kept', () => {
    const node = fakeNode(2000);
    const s = scrolledDown(node, 1500);
    readerAt(s, 1400);
    s.beginNewer();
    const head = node.before('');
    const fresh = post(2001);
    expect(s.applyEvent(node.change(fresh))).toBe('above');
    const seq = s.getSnapshot().seq;
    s.loadHead(head);
    s.endNewer();
    const snap = s.getSnapshot();
    expect(snap.hasNewer).toBe(false);
    expect(snap.above).toBe(0);
    expect(snap.hasMore).toBe(true);
    expect(snap.seq).toBe(seq);
    expect(ids(snap.posts)).toEqual(ids(node.posts.slice(0, pageSize + 1)));
    expect(s.applyEvent(node.change(post(2002)))).toBe('applied');
    // reading on from there joins up
    s.appendPage(node.before(s.nextCursor));
    expect(ids(s.getSnapshot().posts)).toEqual(ids(node.posts.slice(0, 2 * pageSize + 2)));
  });

  it('does not trim while the reader is near both ends', () => {
    const node = fakeNode(2000);
    const s = scrolledDown(node, 1000);
    expect(readerAt(s, trimBeyond - 10)).toBe(false);
    expect(s.getSnapshot().posts).toHaveLength(1000);
  });
});
