import { describe, expect, it } from 'vitest';
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
