import { describe, expect, it } from 'vitest';
import type { Post } from '../../../transport';
import { allNodes, filterChoices, filterPosts, hasUnknownOrigin, originLabel, type Origins } from './origins';

const p = (id: string, origin: string): Post => ({
  id,
  title: id,
  body: '',
  author: 'a',
  origin,
  createdAt: '2026-12-02T10:00:00.000Z',
  updatedAt: '2026-12-02T10:00:00.000Z',
  version: 1,
  deleted: false,
  seq: 1,
});

const o: Origins = {
  self: 'me',
  names: new Map([
    ['me', 'Studio'],
    ['b', 'Harbour'],
    ['c', 'Attic'],
  ]),
  followed: ['b', 'c'],
};
const posts = [p('1', 'me'), p('2', 'b'), p('3', ''), p('4', 'x0123456789'), p('5', 'b')];

describe('origins', () => {
  it('names a post by its node, marks this node as mine, and shortens unknown ids', () => {
    expect(originLabel('me', o)).toEqual({ id: 'me', name: 'Studio', mine: true });
    expect(originLabel('', o)).toEqual({ id: 'me', name: 'Studio', mine: true });
    expect(originLabel('b', o)).toEqual({ id: 'b', name: 'Harbour', mine: false });
    expect(originLabel('x0123456789', o)).toEqual({ id: 'x0123456789', name: 'node 456789', mine: false });
  });

  it('offers this node first, then every followed node or node with posts, by name', () => {
    expect(filterChoices(posts, o).map((c) => c.name)).toEqual(['Studio', 'Attic', 'Harbour', 'node 456789']);
  });

  it('filters the feed by node', () => {
    const ids = (node: string) => filterPosts(posts, node, o).map((x) => x.id);
    expect(ids(allNodes)).toEqual(['1', '2', '3', '4', '5']);
    expect(ids('me')).toEqual(['1', '3']);
    expect(ids('b')).toEqual(['2', '5']);
    expect(ids('c')).toEqual([]);
  });

  it('tells when a post comes from a node without a name here', () => {
    expect(hasUnknownOrigin(posts, o)).toBe(true);
    expect(hasUnknownOrigin(posts.slice(0, 3), o)).toBe(false);
  });
});
