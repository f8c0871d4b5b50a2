import { describe, expect, it, vi } from 'vitest';
import { Credentials, nameError, takeTokenFromURL } from './credentials';
import { memoryStorage } from './deps';

describe('takeTokenFromURL', () => {
  it('stores the token from the fragment and removes it from the address bar', () => {
    const storage = memoryStorage();
    const history = { replaceState: vi.fn() };
    takeTokenFromURL({
      location: { href: 'http://h/#token=s3cret', hash: '#token=s3cret', pathname: '/', search: '?a=1' },
      history,
      storage,
    });
    expect(storage.getItem('lanfeed.token')).toBe('s3cret');
    expect(history.replaceState).toHaveBeenCalledWith(null, '', '/?a=1');
  });
});

describe('Credentials', () => {
  it('gives a browser without a name a guest name once', () => {
    const storage = memoryStorage();
    expect(new Credentials(storage, () => 0.5).name()).toBe('guest-8000');
    expect(new Credentials(storage, () => 0).name()).toBe('guest-8000');
  });
});

describe('nameError', () => {
  it('refuses what the node would refuse at the upgrade', () => {
    expect(nameError('bob')).toBeNull();
    expect(nameError('')).toEqual({ code: 'invalid', field: 'name', message: 'A name has 1 to 64 characters.' });
    expect(nameError('b\u0007b')).toEqual({
      code: 'invalid',
      field: 'name',
      message: 'A name cannot contain control characters.',
    });
  });
});
