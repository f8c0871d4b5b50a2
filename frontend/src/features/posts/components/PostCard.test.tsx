import { act, cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Post } from '../../../transport';
import { PostCard } from './PostCard';

afterEach(cleanup);

const base: Post = {
  id: '0190a000-0000-7000-8000-000000000001',
  title: 'Lunch?',
  body: 'At noon',
  author: 'mia',
  origin: '0190a000-0000-7000-8000-00000000a0de',
  createdAt: '2026-11-22T09:30:00.250Z',
  updatedAt: '2026-11-22T09:30:00.250Z',
  version: 1,
  deleted: false,
  seq: 3,
};

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function setup(over: Partial<Parameters<typeof PostCard>[0]> = {}) {
  const user = userEvent.setup();
  const props = {
    post: base,
    canWrite: true,
    originId: base.origin,
    originName: 'Studio',
    mine: true,
    enter: false,
    onUpdate: vi.fn(() => Promise.resolve({ ...base, version: 2 })),
    onDelete: vi.fn(() => Promise.resolve({ ...base, deleted: true, version: 2 })),
    ...over,
  };
  const r = render(<PostCard {...props} />);
  return { user, props, ...r };
}

describe('PostCard', () => {
  it('renders text as text, with the author and a relative time', () => {
    setup({ post: { ...base, title: '<img src=x onerror=alert(1)>', body: '<b>bold</b>' } });
    expect(screen.getByRole('heading').textContent).toBe('<img src=x onerror=alert(1)>');
    expect(document.querySelector('img')).toBeNull();
    expect(document.querySelector('b')).toBeNull();
    expect(screen.getByText('mia')).toBeTruthy();
    const time = document.querySelector('time');
    expect(time?.getAttribute('datetime')).toBe(base.createdAt);
    expect(time?.getAttribute('title')).toBeTruthy();
  });

  it('offers no edit or delete without write access', () => {
    setup({ canWrite: false });
    expect(screen.queryByRole('button', { name: /edit/i })).toBeNull();
    expect(screen.queryByRole('button', { name: /delete/i })).toBeNull();
  });

  it('edits in place and shows the new text before the node answers', async () => {
    const d = deferred<Post>();
    const { user, props } = setup({ onUpdate: vi.fn(() => d.promise) });
    await user.click(screen.getByRole('button', { name: 'Edit “Lunch?”' }));
    const title = screen.getByLabelText('Title');
    await user.clear(title);
    await user.type(title, 'Lunch at 1?');
    await user.keyboard('{Control>}{Enter}{/Control}');
    expect(props.onUpdate).toHaveBeenCalledWith(base.id, { version: 1, title: 'Lunch at 1?', body: 'At noon' });
    expect(screen.getByRole('heading').textContent).toBe('Lunch at 1?');
    expect(screen.getByText('· saving…')).toBeTruthy();
    await act(async () => d.resolve({ ...base, title: 'Lunch at 1?', version: 2 }));
    expect(screen.queryByText('· saving…')).toBeNull();
  });

  it('on conflict explains, shows their version and can save over it', async () => {
    const theirs = { ...base, title: 'Lunch at 12:30', body: 'Booked', version: 2, seq: 9 };
    const onUpdate = vi
      .fn()
      .mockRejectedValueOnce({ code: 'conflict', message: 'version mismatch', post: theirs })
      .mockResolvedValueOnce({ ...base, title: 'Mine', version: 3 });
    const { user } = setup({ onUpdate });
    await user.click(screen.getByRole('button', { name: /edit/i }));
    const title = screen.getByLabelText('Title');
    await user.clear(title);
    await user.type(title, 'Mine');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    // the optimistic text is rolled back into the editor
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toMatch(/changed this post while you were editing/);
    expect(alert.textContent).toContain('Lunch at 12:30');
    expect(alert.textContent).toContain('Booked');
    expect(screen.getByLabelText<HTMLInputElement>('Title').value).toBe('Mine');
    await user.click(screen.getByRole('button', { name: /keep mine/i }));
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(onUpdate).toHaveBeenLastCalledWith(base.id, { version: 2, title: 'Mine', body: 'At noon' });
  });

  it('on conflict can take their text into the editor', async () => {
    const theirs = { ...base, title: 'Theirs', body: 'Their body', version: 4 };
    const onUpdate = vi.fn().mockRejectedValueOnce({ code: 'conflict', message: 'x', post: theirs });
    const { user } = setup({ onUpdate });
    await user.click(screen.getByRole('button', { name: /edit/i }));
    await user.type(screen.getByLabelText('Title'), '!');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await user.click(await screen.findByRole('button', { name: 'Edit theirs' }));
    expect(screen.getByLabelText<HTMLInputElement>('Title').value).toBe('Theirs');
    expect(screen.getByLabelText<HTMLTextAreaElement>('Text').value).toBe('Their body');
  });

  it('cancels an edit with Escape', async () => {
    const { user, props } = setup();
    await user.click(screen.getByRole('button', { name: /edit/i }));
    await user.type(screen.getByLabelText('Title'), ' changed');
    await user.keyboard('{Escape}');
    expect(screen.queryByLabelText('Title')).toBeNull();
    expect(screen.getByRole('heading').textContent).toBe('Lunch?');
    expect(props.onUpdate).not.toHaveBeenCalled();
  });

  it('deletes only after confirmation, with the version it shows', async () => {
    const { user, props } = setup({ post: { ...base, version: 3 } });
    await user.click(screen.getByRole('button', { name: 'Delete “Lunch?”' }));
    expect(props.onDelete).not.toHaveBeenCalled();
    const dialog = screen.getByRole('alertdialog');
    expect(dialog.textContent).toMatch(/Delete this post for everyone\?/);
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(props.onDelete).not.toHaveBeenCalled();
    await user.click(screen.getByRole('button', { name: 'Delete “Lunch?”' }));
    await user.click(screen.getByRole('button', { name: 'Delete' }));
    expect(props.onDelete).toHaveBeenCalledWith(base.id, 3);
  });

  it('highlights a post when a newer version arrives', () => {
    const { rerender, props } = setup();
    const article = screen.getByRole('article');
    const before = article.className;
    rerender(<PostCard {...props} post={{ ...base, title: 'Edited elsewhere', version: 2 }} />);
    expect(screen.getByRole('heading').textContent).toBe('Edited elsewhere');
    expect(screen.getByRole('article').className).not.toBe(before);
  });
});

describe('PostCard tooltips', () => {
  it('names the shortcut in a tooltip of its own, gone once the editor opens', async () => {
    const { user } = setup();
    const edit = screen.getByRole('button', { name: 'Edit “Lunch?”' });
    // a native title tooltip outlives the click and covered the title being edited
    expect(edit.getAttribute('title')).toBeNull();
    expect(screen.getByRole('button', { name: 'Delete “Lunch?”' }).getAttribute('title')).toBeNull();
    const tip = document.getElementById(edit.getAttribute('aria-describedby') ?? '');
    expect(tip?.getAttribute('role')).toBe('tooltip');
    expect(tip?.textContent).toBe('Edit (E)');
    await user.click(edit);
    expect(screen.getByRole('form', { name: 'Edit post' })).toBeTruthy();
    expect(screen.queryAllByRole('tooltip', { hidden: true })).toEqual([]);
  });
});
