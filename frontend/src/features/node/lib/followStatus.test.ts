import { describe, expect, it } from 'vitest';
import type { FollowInfo } from '../../../transport';
import { addressError, followStatus } from './followStatus';

const now = Date.parse('2026-12-02T10:00:00.000Z');
const f = (over: Partial<FollowInfo>): FollowInfo => ({
  node: 'b',
  name: 'Harbour',
  url: 'http://192.168.1.7:7700/',
  state: 'live',
  seq: 0,
  nodeSeq: 0,
  since: '2026-12-02T09:57:00.000Z',
  ...over,
});

describe('followStatus', () => {
  it.each([
    ['live', f({ state: 'live' }), 'live', 'ok'],
    ['catching up', f({ state: 'catching_up', seq: 12400, nodeSeq: 100000 }), 'catching up 12,400 of 100,000', 'busy'],
    ['catching up past the hello', f({ state: 'catching_up', seq: 120, nodeSeq: 100 }), 'catching up 120 of 120', 'busy'],
    ['connecting', f({ state: 'connecting' }), 'connecting…', 'busy'],
    ['offline', f({ state: 'offline' }), 'offline since 3 min. ago', 'bad'],
    ['offline just now, with a reason', f({ state: 'offline', since: '2026-12-02T09:59:50.000Z', reason: 'no answer to ping' }), 'offline since just now (no answer to ping)', 'bad'],
    ['refused', f({ state: 'refused', reason: 'a post claims another origin' }), 'refused: a post claims another origin', 'bad'],
    ['a state of a newer node', f({ state: 'paused_by_user' }), 'paused by user', 'busy'],
  ])('%s', (_, info, text, tone) => {
    const st = followStatus(info, now);
    expect(st.text).toBe(text);
    expect(st.tone).toBe(tone);
  });

  it('gives the catch-up progress as a fraction', () => {
    expect(followStatus(f({ state: 'catching_up', seq: 25, nodeSeq: 100 }), now).progress).toBe(0.25);
    expect(followStatus(f({ state: 'catching_up', seq: 0, nodeSeq: 0 }), now).progress).toBe(0);
    expect(followStatus(f({ state: 'live' }), now).progress).toBeUndefined();
  });
});

describe('addressError', () => {
  it.each(['192.168.1.20:7700', 'http://laptop.local:7700/', 'https://feed.lan', 'ws://10.0.0.2:7700', '[fe80::1]:7700'])(
    'accepts %s',
    (a) => expect(addressError(a)).toBe(''),
  );
  it.each([
    ['', 'Enter the address'],
    ['   ', 'Enter the address'],
    ['my laptop', 'no spaces'],
    ['http://', 'not an address'],
    ['ftp://10.0.0.2', 'not ftp'],
  ])('refuses %j', (a, want) => expect(addressError(a)).toContain(want));
});
