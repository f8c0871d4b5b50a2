import { describe, expect, it } from 'vitest';
import type { Peer, PeersEnvelope } from '../../../transport/types';
import { PeersStore } from './peersStore';

const peer = (id: string, since: string): Peer => ({ id, name: `name-${id}`, since });
const ev = (action: 'join' | 'leave', p: Peer, count = 0): PeersEnvelope => ({
  type: 'event',
  event: 'peers',
  data: { action, peer: p, count },
});

describe('PeersStore', () => {
  it('lists peers oldest first and applies join and leave', () => {
    const s = new PeersStore();
    s.load([peer('p2', '2026-11-22T09:02:00.000Z'), peer('p1', '2026-11-22T09:01:00.000Z')]);
    s.apply(ev('join', peer('p3', '2026-11-22T09:03:00.000Z')));
    s.apply(ev('leave', peer('p1', '2026-11-22T09:01:00.000Z')));
    expect(s.getSnapshot().map((p) => p.id)).toEqual(['p2', 'p3']);
  });

  it('keeps events that arrive while a snapshot is read', () => {
    const s = new PeersStore();
    s.beginLoad();
    s.apply(ev('join', peer('p9', '2026-11-22T09:09:00.000Z')));
    s.apply(ev('leave', peer('p1', '2026-11-22T09:01:00.000Z')));
    expect(s.getSnapshot()).toEqual([]);
    s.load([peer('p1', '2026-11-22T09:01:00.000Z')]);
    expect(s.getSnapshot().map((p) => p.id)).toEqual(['p9']);
  });
});
