import { describe, expect, it } from 'vitest';
import { badgeFor } from './ConnectionBadge';
import { shareURL } from './NodePanel';
import { qrPath } from './QrCode';

describe('shareURL', () => {
  it('puts the token in the fragment', () => {
    expect(shareURL('http://192.168.1.5:7700/', 'a b+c')).toBe('http://192.168.1.5:7700/#token=a%20b%2Bc');
    expect(shareURL('http://192.168.1.5:7700/#old', '')).toBe('http://192.168.1.5:7700/');
  });
});

describe('qrPath', () => {
  it('draws a square code with a quiet zone', () => {
    const { d, size } = qrPath('http://192.168.1.5:7700/#token=k7Qm2xP9fT4wLs8R');
    expect(size).toBeGreaterThanOrEqual(21 + 8);
    // the top-left finder pattern starts right after the 4-module margin
    expect(d.startsWith('M4 4h1v1h-1z')).toBe(true);
  });
});

describe('badgeFor', () => {
  const now = 1_000_000;
  it('says Live when the stream is up and the LAN can reach the node', () => {
    expect(badgeFor({ state: 'live' }, now)).toMatchObject({ label: 'Live', tone: 'live', detail: '' });
  });
  it('says Local only, not Live, when the LAN server did not start', () => {
    const b = badgeFor({ state: 'live' }, now, 'listen tcp 0.0.0.0:7700: bind: address already in use');
    expect(b).toMatchObject({ label: 'Local only', tone: 'local', detail: 'LAN server not running' });
    expect(b.title).toContain('address already in use');
  });
  it('counts down to the next attempt while offline', () => {
    expect(badgeFor({ state: 'offline', retryAt: now + 4_200 }, now)).toMatchObject({
      label: 'Offline',
      detail: 'retrying in 5s',
      title: 'Offline retrying in 5s',
    });
  });
  it('keeps the state of the stream when it is down, whatever the LAN server', () => {
    expect(badgeFor({ state: 'reconnecting' }, now, 'bind: address already in use').label).toBe('Reconnecting…');
  });
});
