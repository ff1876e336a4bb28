// The local issuer over HTTP: JWKS, sign-in and the web app's sign-in config, all under /auth. Mount it on the
// local server beside the API, passing the Node server's bindings (`routes.fetch(request, env)`) so sign-in
// throttling can tell clients apart by address. Every route is public and declares so, with its body limit.

import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { access, accessGate } from '../api/access.js';
import { errorResponse } from '../api/errors.js';
import { WinnowError } from '../domain/errors.js';
import { AUTH_PATH, TooManyAttempts, type LocalIssuer } from './local-issuer.js';

const LoginBody = z.object({
  username: z.string().min(1).max(256),
  password: z.string().min(1).max(1024),
});

/** A sign-in body is two short strings; anything bigger is refused (413) before it is read any further. */
export const LOGIN_MAX_BODY_BYTES = 4096;

type AuthEnv = { Variables: { requestId: string } };

function fail(c: Context<AuthEnv>, status: 400 | 401 | 415 | 429, code: string, message: string) {
  return c.json({ code, message, requestId: c.get('requestId') }, status);
}

/** The connecting address from @hono/node-server's bindings; 'unknown' when served without them. */
function clientAddress(c: Context): string {
  const env = c.env as { incoming?: NodeIncoming; server?: { incoming?: NodeIncoming } } | undefined;
  return (env?.incoming ?? env?.server?.incoming)?.socket?.remoteAddress ?? 'unknown';
}
type NodeIncoming = { socket?: { remoteAddress?: string } };

const isPublic = (maxBodyBytes?: number) => access('public', { maxBodyBytes }) as unknown as MiddlewareHandler<AuthEnv>;

export function createAuthRoutes(issuer: LocalIssuer) {
  const auth = new Hono<AuthEnv>();
  auth.use('*', async (c, next) => {
    c.set('requestId', c.req.header('x-request-id')?.slice(0, 64) || crypto.randomUUID());
    await next();
  });
  // The same path rules and fail-closed check as the API: one spelling per path, no route without a declaration.
  auth.use('*', accessGate as unknown as MiddlewareHandler<AuthEnv>);
  auth.onError((err, c) => errorResponse(c, err));
  auth.notFound((c) => c.json({ code: 'not_found', message: `no route ${c.req.method} ${c.req.path}`, requestId: c.get('requestId') }, 404));
  auth.get(`${AUTH_PATH}/.well-known/jwks.json`, isPublic(), (c) => {
    c.header('cache-control', 'public, max-age=300');
    return c.json(issuer.jwks());
  });

  auth.get(`${AUTH_PATH}/config`, isPublic(), (c) =>
    c.json({ mode: 'local' as const, issuer: issuer.issuer, clientId: issuer.clientId }),
  );

  auth.post(`${AUTH_PATH}/login`, isPublic(LOGIN_MAX_BODY_BYTES), async (c) => {
    // JSON only: a cross-site HTML form cannot send it, so no page can sign a visitor in as someone else.
    if (!c.req.header('content-type')?.toLowerCase().startsWith('application/json')) {
      return fail(c, 415, 'bad_request', 'send the sign-in as application/json');
    }
    const body = LoginBody.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) return fail(c, 400, 'bad_request', 'send { "username": string, "password": string }');
    try {
      const result = await issuer.login(body.data.username, body.data.password, clientAddress(c));
      c.header('cache-control', 'no-store');
      return c.json(result);
    } catch (err) {
      if (err instanceof TooManyAttempts) {
        c.header('retry-after', String(err.retryAfterSeconds));
        return fail(c, 429, 'unauthorized', err.message);
      }
      if (err instanceof WinnowError && err.code === 'unauthorized') return fail(c, 401, err.code, err.message);
      throw err;
    }
  });
  return auth;
}
