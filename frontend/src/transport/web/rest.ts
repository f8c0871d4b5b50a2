import { apiError, toApiError } from '../errors';
import type { ApiError } from '../types';
import type { WebDeps } from './deps';

// statusCodes names the error of an answer whose body is not the error JSON.
const statusCodes: Record<number, ApiError['code']> = {
  400: 'bad_request',
  401: 'unauthorized',
  404: 'not_found',
  409: 'conflict',
  413: 'too_large',
  429: 'rate_limited',
};

/** RestClient makes the node's REST calls; paths are relative to the page, so the bundle works under any path. */
export interface RestClient {
  /** request rejects with an ApiError: 'offline' when the node cannot be reached. */
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** nodeAnswers tells whether the node answers plain HTTP at all (GET api/info). */
  nodeAnswers(): Promise<boolean>;
}

/** restClient sends writes with the bearer token that token() returns, if any. */
export function restClient(d: Pick<WebDeps, 'fetch' | 'location'>, token: () => string): RestClient {
  const url = (path: string) => new URL(path, d.location.href);

  return {
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      const headers: Record<string, string> = { Accept: 'application/json' };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const t = token();
      if (t && method !== 'GET') headers.Authorization = `Bearer ${t}`;
      let res: Response;
      try {
        res = await d.fetch(url(path), {
          method,
          headers,
          body: body === undefined ? null : JSON.stringify(body),
        });
      } catch {
        throw apiError('offline', 'Cannot reach the node. Check the connection.');
      }
      let json: unknown = null;
      try {
        json = await res.json();
      } catch {
        // an empty or non-JSON body: the status tells what happened
      }
      if (res.ok) return json as T;
      const err = toApiError(json, `The node answered ${res.status}`);
      if (err.code === 'internal' && res.status !== 500) err.code = statusCodes[res.status] ?? 'internal';
      throw err;
    },

    async nodeAnswers(): Promise<boolean> {
      try {
        const res = await d.fetch(url('api/info'), { headers: { Accept: 'application/json' } });
        return res.ok;
      } catch {
        return false;
      }
    },
  };
}
