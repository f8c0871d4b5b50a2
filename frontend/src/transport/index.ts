// The transport boundary: the rest of the app imports from here only.
import { createWailsTransport, isDesktop } from './wails';
import { createWebTransport } from './web';
import type { Transport } from './types';

export type * from './types';
export { toApiError, isApiError } from './errors';

/** createTransport picks the Wails bindings inside the desktop window, REST and websocket elsewhere. */
export function createTransport(): Transport {
  return isDesktop() ? createWailsTransport() : createWebTransport();
}
