import { act, cleanup, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FollowInfo, LiveListener, NewPost, Post, Transport } from '../transport';
import { App } from './App';
import { createSession } from './session';

afterEach(cleanup);

const post = (n: number, over: Partial<Post> = {}): Post => ({
  id: `0190a000-0000-7000-8000-${String(n).padStart(12, '0')}`,
  title: `Post ${n}`,
  body: `Body ${n}`,
  author: n % 2 ? 'mia' : 'jonas',
  origin: self,
  createdAt: `2026-11-22T09:${String(n).padStart(2, '0')}:00.000Z`,
  updatedAt: `2026-11-22T09:${String(n).padStart(2, '0')}:00.000Z`,
  version: 1,
  deleted: false,
  seq: n,
  ...over,
});

// fakeTransport is a node with three posts at seq 3; the test plays the stream.
const self = 'n';
const harbour = '0190a000-0000-7000-8000-0000000bbbbb';
const now = () => new Date().toISOString();

function fakeTransport(kind: 'web' | 'desktop', canWrite: boolean, replicas: Post[] = []) {
  let listener: LiveListener | null = null;
  const sync = vi.fn();
  let token = kind === 'desktop' ? 'desk-token' : '';
  let follows: FollowInfo[] = [
    { node: harbour, name: 'Harbour', url: 'http://192.168.1.7:7700/', state: 'catching_up', seq: 12400, nodeSeq: 100000, since: now() },
  ];
  const t: Transport = {
    kind,
    listPosts: () => Promise.resolve({ posts: [post(3), post(2), post(1)].concat(replicas), next: '', prev: '', seq: 3 }),
    listNewer: vi.fn(),
    getPost: vi.fn(),
    createPost: vi.fn((input: NewPost) => {
      const p = post(4, { ...input, author: input.author ?? 'desk', seq: 4 });
      listener?.ack(p, 4);
      return Promise.resolve(p);
    }),
    updatePost: vi.fn(),
    deletePost: vi.fn(),
    info: () =>
      Promise.resolve({ proto: 1, version: '0.1.0', node: { id: 'n', name: 'Studio' }, epoch: 'E1', seq: 3, peers: 1, urls: ['http://192.168.1.5:7700/'] }),
    peers: () => Promise.resolve([{ id: 'p1', name: 'sam', since: '2026-11-22T09:00:00.000Z' }]),
    follows: vi.fn(() => Promise.resolve(follows.slice())),
    follow: vi.fn((url: string) => {
      if (!url.includes('7700')) return Promise.reject({ code: 'invalid', message: `cannot reach a node at http://${url}` });
      const f: FollowInfo = { node: 'far', name: 'Far', url: `http://${url}/`, state: 'connecting', seq: 0, nodeSeq: 0, since: now() };
      follows.push(f);
      return Promise.resolve(f);
    }),
    unfollow: vi.fn((node: string) => {
      follows = follows.filter((f) => f.node !== node);
      return Promise.resolve();
    }),
    nearby: () => Promise.resolve([{ node: 'near', name: 'Kiosk', url: 'http://192.168.1.9:7700/', urls: [], seen: now() }]),
    settings: () => Promise.resolve({ autoFollow: false }),
    setSettings: vi.fn((st: { autoFollow: boolean }) => Promise.resolve(st)),
    connect(l) {
      listener = l;
      l.status({ state: 'live' });
      queueMicrotask(() => l.open({ epoch: 'E1', seq: 3, node: { id: 'n', name: 'Studio' }, canWrite }));
      return () => (listener = null);
    },
    sync,
    resync: vi.fn(),
    token: () => Promise.resolve(token),
    setToken: (v) => {
      token = v;
    },
    name: () => Promise.resolve(kind === 'desktop' ? 'Studio' : 'guest-1'),
    setName: (n) => Promise.resolve(n),
  };
  return {
    t,
    sync,
    get listener() {
      if (!listener) throw new Error('not connected');
      return listener;
    },
  };
}

const titles = () => within(screen.getByRole('feed')).getAllByRole('heading').map((h) => h.textContent);

describe('App', () => {
  it('shows the feed newest first and applies live events in place', async () => {
    const f = fakeTransport('desktop', true);
    render(<App session={createSession(f.t)} />);
    await screen.findByRole('feed');
    expect(titles()).toEqual(['Post 3', 'Post 2', 'Post 1']);
    expect(f.sync).toHaveBeenCalledWith(3, 'E1');
    act(() => f.listener.synced(3));

    act(() => f.listener.posts({ type: 'event', event: 'posts', seq: 4, data: { action: 'create', post: post(9, { seq: 4 }) } }));
    act(() =>
      f.listener.posts({
        type: 'event',
        event: 'posts',
        seq: 5,
        data: { action: 'update', post: post(2, { title: 'Post 2, edited', version: 2, seq: 5 }) },
      }),
    );
    act(() =>
      f.listener.posts({
        type: 'event',
        event: 'posts',
        seq: 6,
        data: { action: 'delete', post: post(1, { title: '', body: '', deleted: true, version: 2, seq: 6 }) },
      }),
    );
    expect(titles()).toEqual(['Post 9', 'Post 3', 'Post 2, edited']);
    expect(screen.getByText('Live')).toBeTruthy();
  });

  it('asks for a resync on a gap', async () => {
    const f = fakeTransport('desktop', true);
    render(<App session={createSession(f.t)} />);
    await screen.findByRole('feed');
    act(() => f.listener.synced(3));
    act(() => f.listener.posts({ type: 'event', event: 'posts', seq: 7, data: { action: 'create', post: post(9, { seq: 7 }) } }));
    expect(f.t.resync).toHaveBeenCalledTimes(1);
    expect(titles()).toEqual(['Post 3', 'Post 2', 'Post 1']);
  });

  it('is read-only in a browser without a token, with a place to enter one', async () => {
    const f = fakeTransport('web', false);
    render(<App session={createSession(f.t)} />);
    await screen.findByRole('feed');
    expect(screen.queryByRole('form', { name: 'New post' })).toBeNull();
    expect(screen.getByRole('form', { name: 'Enter pairing token' })).toBeTruthy();
    // where the token is shown, on a desktop node and on a headless one
    expect(
      screen.getByText(
        "To write, enter the node's pairing token or open its write link. The node's owner finds both in the desktop app's node panel, or in the output of lanfeedd serve.",
      ),
    ).toBeTruthy();
    expect(screen.queryByRole('button', { name: /^Edit/ })).toBeNull();
  });

  it('publishes from the composer and shows the post at the top', async () => {
    const user = userEvent.setup();
    const f = fakeTransport('web', true);
    render(<App session={createSession(f.t)} />);
    await screen.findByRole('feed');
    act(() => f.listener.synced(3));
    const form = await screen.findByRole('form', { name: 'New post' });
    await user.type(within(form).getByLabelText('Title'), 'Hello LAN');
    await user.keyboard('{Control>}{Enter}{/Control}');
    expect(f.t.createPost).toHaveBeenCalledWith({ title: 'Hello LAN', body: '', author: 'guest-1' });
    await vi.waitFor(() => expect(titles()[0]).toBe('Hello LAN'));
  });

  it('shows the LAN URL, peers and, on the desktop, the token', async () => {
    const f = fakeTransport('desktop', true);
    render(<App session={createSession(f.t)} />);
    await screen.findByRole('feed');
    const panel = screen.getByRole('complementary', { name: 'Node' });
    expect(await within(panel).findByText('http://192.168.1.5:7700/')).toBeTruthy();
    expect(await within(panel).findByText('sam')).toBeTruthy();
    expect(within(panel).getByText('lanfeed 0.1.0')).toBeTruthy(); // the build, for bug reports
    expect(within(panel).getByRole('img', { name: /QR code: .* with write access/ })).toBeTruthy();
    await userEvent.setup().click(within(panel).getByRole('button', { name: 'Show token' }));
    expect(within(panel).getByText('desk-token')).toBeTruthy();
  });

  it('marks each post with its node and offers no edit or delete on replicas', async () => {
    const f = fakeTransport('desktop', true, [post(5, { origin: harbour, title: 'From the harbour', author: 'ida' })]);
    render(<App session={createSession(f.t)} />);
    await screen.findByRole('feed');
    act(() => f.listener.synced(3));
    const card = (title: string) => screen.getByRole('article', { name: title });
    await vi.waitFor(() => expect(within(card('From the harbour')).getByText('Harbour')).toBeTruthy());
    expect(within(card('From the harbour')).queryByText('mine')).toBeNull();
    expect(within(card('From the harbour')).queryByRole('button', { name: /^(Edit|Delete)/ })).toBeNull();
    expect(within(card('Post 3')).getByText('Studio')).toBeTruthy();
    expect(within(card('Post 3')).getByText('mine')).toBeTruthy();
    expect(within(card('Post 3')).getByRole('button', { name: 'Edit “Post 3”' })).toBeTruthy();
  });

  it('filters the feed by node from the keyboard', async () => {
    const user = userEvent.setup();
    const f = fakeTransport('desktop', true, [post(5, { origin: harbour, title: 'From the harbour' })]);
    render(<App session={createSession(f.t)} />);
    await screen.findByRole('feed');
    const filter = await screen.findByRole('group', { name: 'Show posts from' });
    expect(within(filter).getAllByRole('button').map((b) => b.textContent)).toEqual(['All', 'Studiomine', 'Harbour']);
    within(filter).getByRole('button', { name: 'All' }).focus();
    await user.keyboard('{ArrowRight}{ArrowRight}{Enter}');
    expect(within(filter).getByRole('button', { name: 'Harbour' }).getAttribute('aria-pressed')).toBe('true');
    expect(titles()).toEqual(['From the harbour']);
    await user.keyboard('{ArrowLeft} ');
    expect(titles()).toEqual(['Post 3', 'Post 2', 'Post 1']);
    await user.keyboard('{ArrowLeft}{Enter}');
    expect(titles()).toEqual(['From the harbour', 'Post 3', 'Post 2', 'Post 1']);
  });

  it('lists the nodes, follows by address and unfollows after a confirmation', async () => {
    const user = userEvent.setup();
    const f = fakeTransport('desktop', true);
    render(<App session={createSession(f.t)} />);
    const nodes = await screen.findByRole('region', { name: /^Nodes/ });
    expect(await within(nodes).findByText('catching up 12,400 of 100,000')).toBeTruthy();
    expect(within(nodes).getByText('this node')).toBeTruthy();
    expect(await within(nodes).findByText('Kiosk')).toBeTruthy();
    expect(within(nodes).getByRole('switch', { name: 'Follow every node found nearby' }).getAttribute('aria-checked')).toBe(
      'false',
    );

    const form = within(nodes).getByRole('form', { name: 'Add a node by address' });
    const field = within(form).getByLabelText('Add a node by address');
    await user.type(field, 'http://');
    await user.click(within(form).getByRole('button', { name: 'Follow' }));
    expect(within(form).getByRole('alert').textContent).toContain('not an address');
    await user.clear(field);
    await user.type(field, 'printer.lan:9');
    await user.click(within(form).getByRole('button', { name: 'Follow' }));
    expect((await within(form).findByRole('alert')).textContent).toBe('cannot reach a node at http://printer.lan:9');
    expect((field as HTMLInputElement).value, 'the address typed is lost').toBe('printer.lan:9');
    await user.clear(field);
    await user.type(field, '192.168.1.20:7700{Enter}');
    expect(f.t.follow).toHaveBeenLastCalledWith('192.168.1.20:7700');
    expect(await within(nodes).findByText('Far')).toBeTruthy();

    await user.click(within(nodes).getByRole('button', { name: 'Unfollow Harbour' }));
    expect(f.t.unfollow).not.toHaveBeenCalled();
    await user.click(within(within(nodes).getByRole('alertdialog')).getByRole('button', { name: 'Unfollow' }));
    expect(f.t.unfollow).toHaveBeenCalledWith(harbour);
    await vi.waitFor(() => expect(within(nodes).queryByText('Harbour')).toBeNull());
  });

  it('shows a read-only browser the nodes without the buttons to change them', async () => {
    const f = fakeTransport('web', false);
    render(<App session={createSession(f.t)} />);
    const nodes = await screen.findByRole('region', { name: /^Nodes/ });
    expect(await within(nodes).findByText('Harbour')).toBeTruthy();
    expect(await within(nodes).findByText('Kiosk')).toBeTruthy();
    expect(within(nodes).queryByRole('button', { name: /Follow|Unfollow/ })).toBeNull();
    expect(within(nodes).queryByRole('form')).toBeNull();
    expect(within(nodes).getByRole<HTMLButtonElement>('switch').disabled).toBe(true);
  });
});
