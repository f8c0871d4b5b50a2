import { describe, expect, it } from 'vitest';
import type { Post } from '../../../transport';
import { cardReducer, initialCardState, type CardAction, type CardState } from './usePostChanges';

const theirs: Post = {
  id: 'x',
  title: 'Theirs',
  body: 'Their body',
  author: 'mia',
  origin: '0190a000-0000-7000-8000-00000000a0de',
  createdAt: '2026-11-22T09:30:00.000Z',
  updatedAt: '2026-11-22T09:31:00.000Z',
  version: 4,
  deleted: false,
  seq: 9,
};

const run = (...actions: CardAction[]): CardState => actions.reduce(cardReducer, initialCardState);
const draft = { title: 'Mine', body: 'My body', version: 3 };

describe('cardReducer', () => {
  it('starts nothing else while a save or a delete is on its way', () => {
    const saving = run({ type: 'edit', draft }, { type: 'save', shown: draft });
    expect(cardReducer(saving, { type: 'edit', draft })).toBe(saving);
    expect(cardReducer(saving, { type: 'askDelete' })).toBe(saving);
    const deleting = run({ type: 'askDelete' }, { type: 'delete' });
    expect(cardReducer(deleting, { type: 'edit', draft })).toBe(deleting);
    expect(cardReducer(deleting, { type: 'cancelDelete' })).toBe(deleting);
  });

  it('resolves a conflict with their text or with mine on their version', () => {
    const refused = run(
      { type: 'edit', draft },
      { type: 'save', shown: draft },
      { type: 'refused', edit: { draft, errors: {}, formError: null, conflict: theirs } },
    );
    expect(cardReducer(refused, { type: 'takeTheirs' }).mode).toEqual({
      name: 'editing',
      edit: { draft: { title: 'Theirs', body: 'Their body', version: 4 }, errors: {}, formError: null, conflict: null },
    });
    expect(cardReducer(refused, { type: 'keepMine' }).mode).toMatchObject({
      edit: { draft: { ...draft, version: 4 }, conflict: null },
    });
  });

  it('keeps why a delete failed until the next delete', () => {
    const failed = run({ type: 'askDelete' }, { type: 'delete' }, { type: 'deleteFailed', error: 'no' });
    expect(failed).toEqual({ mode: { name: 'viewing' }, deleteError: 'no' });
    expect(cardReducer(failed, { type: 'edit', draft }).deleteError).toBe('no');
    expect(run({ type: 'askDelete' }, { type: 'delete' }).deleteError).toBeNull();
    expect(cardReducer(cardReducer(failed, { type: 'askDelete' }), { type: 'delete' }).deleteError).toBeNull();
  });
});
