// One error shape for every response: { code, message, requestId }. Domain errors map to their status here
// and nowhere else.

import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { createLogger, type Logger } from '../adapters/log.js';
import { WinnowError, type ErrorCode } from '../domain/errors.js';
import type { ApiDeps } from './types.js';

/** Without a logger in the dependencies: readable lines on the console. */
const consoleLogger = createLogger({ format: 'text' });

/** The API's logger: the one in its dependencies, else the console. */
export const apiLog = (deps: ApiDeps | undefined): Logger => deps?.log ?? consoleLogger;

const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  stale_version: 409,
  lease_conflict: 409,
  payload_too_large: 413,
  unavailable: 503,
  internal: 500,
};

export function errorResponse(c: Context, err: unknown) {
  const requestId = c.get('requestId') ?? 'unknown';
  if (err instanceof WinnowError) {
    return c.json({ code: err.code, message: err.message, requestId, ...err.details }, STATUS[err.code]);
  }
  if (err instanceof HTTPException) {
    const code = err.status === 401 ? 'unauthorized' : err.status === 404 ? 'not_found' : 'bad_request';
    return c.json({ code, message: err.message || 'request rejected', requestId }, err.status);
  }
  if (err instanceof SyntaxError) {
    return c.json({ code: 'bad_request', message: `malformed JSON body: ${err.message}`, requestId }, 400);
  }
  apiLog(c.get('deps') as ApiDeps | undefined).error('unhandled error', { requestId, method: c.req.method, path: c.req.path, error: err });
  return c.json({ code: 'internal', message: 'internal error; see the server log for this requestId', requestId }, 500);
}
