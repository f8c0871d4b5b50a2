import type { ApiError, ErrorCode } from './types';

const codes: ReadonlySet<string> = new Set<ErrorCode>([
  'invalid',
  'not_found',
  'conflict',
  'read_only',
  'unauthorized',
  'bad_request',
  'rate_limited',
  'too_large',
  'internal',
  'offline',
  'timeout',
]);

/** isApiError tells whether x has the shape of the error JSON. */
export function isApiError(x: unknown): x is ApiError {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as Record<string, unknown>;
  return typeof e.code === 'string' && codes.has(e.code) && typeof e.message === 'string';
}

/**
 * toApiError turns whatever a transport was rejected with into an ApiError:
 * the error object itself, its JSON text (Wails may pass errors as strings),
 * or anything else as an internal error.
 */
export function toApiError(x: unknown, fallback = 'Something went wrong'): ApiError {
  if (isApiError(x)) return clean(x);
  if (typeof x === 'string') {
    try {
      const parsed: unknown = JSON.parse(x);
      if (isApiError(parsed)) return clean(parsed);
    } catch {
      // not JSON: a plain message
    }
    return { code: 'internal', message: x || fallback };
  }
  if (x instanceof Error) {
    return toApiError(x.message, fallback);
  }
  return { code: 'internal', message: fallback };
}

function clean(e: ApiError): ApiError {
  const out: ApiError = { code: e.code, message: e.message };
  if (typeof e.field === 'string' && e.field) out.field = e.field;
  if (e.post && typeof e.post === 'object') out.post = e.post;
  return out;
}

/** apiError builds an ApiError. */
export function apiError(code: ErrorCode, message: string): ApiError {
  return { code, message };
}
