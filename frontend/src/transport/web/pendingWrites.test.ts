import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Post } from '../types';
import { PendingWrites } from './pendingWrites';

const post = { id: 'x', version: 1 } as Post;

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('PendingWrites', () => {
  it('matches answers to writes by id and ignores ids it does not wait for', async () => {
    const w = new PendingWrites();
    const sent: number[] = [];
    const first = w.add((id) => sent.push(id));
    const second = w.add((id) => sent.push(id));
    expect(sent).toEqual([1, 2]);
    w.resolve(7, post);
    w.reject(2, { code: 'invalid', message: 'no' });
    w.resolve(1, post);
    await expect(first).resolves.toBe(post);
    await expect(second).rejects.toEqual({ code: 'invalid', message: 'no' });
  });

  it('fails a write with no answer in 15 s', async () => {
    const w = new PendingWrites();
    let outcome: unknown = 'waiting';
    w.add(() => {}).then(
      () => (outcome = 'acked'),
      (e: unknown) => (outcome = e),
    );
    await vi.advanceTimersByTimeAsync(14_999);
    expect(outcome).toBe('waiting');
    await vi.advanceTimersByTimeAsync(1);
    expect(outcome).toMatchObject({ code: 'timeout' });
  });

  it('fails every waiting write when the socket goes', async () => {
    const w = new PendingWrites();
    const a = w.add(() => {});
    const b = w.add(() => {});
    w.failAll('gone');
    await expect(a).rejects.toEqual({ code: 'timeout', message: 'gone' });
    await expect(b).rejects.toEqual({ code: 'timeout', message: 'gone' });
  });
});
