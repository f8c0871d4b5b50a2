/** WebDeps are the browser APIs the web transport uses; tests pass fakes. */
export interface WebDeps {
  location: Pick<Location, 'href' | 'hash' | 'pathname' | 'search'>;
  history: Pick<History, 'replaceState'>;
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  fetch: typeof fetch;
  WebSocket: new (url: string) => WebSocket;
  online: () => boolean;
  addEventListener: (type: 'online' | 'offline', f: () => void) => void;
  removeEventListener: (type: 'online' | 'offline', f: () => void) => void;
  random: () => number;
}

/** browserDeps are the real ones, from window. */
export function browserDeps(): WebDeps {
  return {
    location: window.location,
    history: window.history,
    storage: safeStorage(),
    fetch: (...a) => window.fetch(...a),
    WebSocket: window.WebSocket,
    online: () => navigator.onLine !== false,
    addEventListener: (t, f) => window.addEventListener(t, f),
    removeEventListener: (t, f) => window.removeEventListener(t, f),
    random: Math.random,
  };
}

// safeStorage falls back to memory where localStorage is unavailable
// (private modes, storage disabled): reading it throws there.
function safeStorage(): WebDeps['storage'] {
  try {
    const s = window.localStorage;
    s.getItem('lanfeed.token');
    return s;
  } catch {
    return memoryStorage();
  }
}

/** memoryStorage is a storage that lasts as long as the page; tests start it with entries. */
export function memoryStorage(init: Record<string, string> = {}): WebDeps['storage'] {
  const m = new Map(Object.entries(init));
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
  };
}
