import { nameLengthError } from '../../features/posts/api/limits';
import { firstControlChar } from '../../lib/text';
import type { ApiError } from '../types';
import type { WebDeps } from './deps';

const tokenKey = 'lanfeed.token';
const nameKey = 'lanfeed.name';

/**
 * takeTokenFromURL moves a token given in the page's fragment (#token=...,
 * the link the desktop app shares) into storage and removes it from the
 * address bar and history.
 */
export function takeTokenFromURL(d: Pick<WebDeps, 'location' | 'history' | 'storage'>): void {
  const hash = d.location.hash.replace(/^#/, '');
  if (!hash) return;
  const params = new URLSearchParams(hash);
  const token = params.get('token');
  if (token === null) return;
  if (token) d.storage.setItem(tokenKey, token);
  params.delete('token');
  const rest = params.toString();
  d.history.replaceState(null, '', d.location.pathname + d.location.search + (rest ? '#' + rest : ''));
}

/**
 * Credentials are the pairing token and the display name this browser
 * connects and writes with. They live in storage, so a reload keeps them; a
 * browser without a name gets a random guest name the first time.
 */
export class Credentials {
  constructor(
    private readonly storage: WebDeps['storage'],
    random: () => number,
  ) {
    if (!storage.getItem(nameKey)) {
      storage.setItem(nameKey, 'guest-' + Math.floor(random() * 0x10000).toString(16).padStart(4, '0'));
    }
  }

  /** token is the pairing token, '' if none. */
  token(): string {
    return this.storage.getItem(tokenKey) ?? '';
  }

  /** setToken keeps token; '' forgets it. */
  setToken(token: string): void {
    if (token) this.storage.setItem(tokenKey, token);
    else this.storage.removeItem(tokenKey);
  }

  name(): string {
    return this.storage.getItem(nameKey) ?? 'guest';
  }

  /** setName keeps name, which nameError found fit. */
  setName(name: string): void {
    this.storage.setItem(nameKey, name);
  }
}

/**
 * nameError says why the node would refuse name (trimmed), or returns null.
 * The node checks the name at the socket's upgrade, where a refusal would
 * look like a lost connection, so it is checked here first.
 */
export function nameError(name: string): ApiError | null {
  const problem = nameLengthError(name) ?? (firstControlChar(name) ? 'A name cannot contain control characters.' : null);
  return problem ? { code: 'invalid', field: 'name', message: problem } : null;
}
