// The local issuer over HTTP: JWKS, sign-in and the web app's sign-in config, all under /auth. Mount it on the
// local server beside the API (`root.route('/', createAuthRoutes(issuer))`); it needs no token itself.

import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { WinnowError } from '../domain/errors.js';
import { AUTH_PATH, TooManyAttempts, type LocalIssuer } from './local-issuer.js';

const LoginBody = z.object({
  username: z.string().min(1).max(256),
  password: z.string().min(1).max(1024),
});

function fail(c: Context, status: 400 | 401 | 415 | 429, code: string, message: string) {
  const requestId = c.req.header('x-request-id')?.slice(0, 64) || crypto.randomUUID();
  return c.json({ code, message, requestId }, status);
}

export function createAuthRoutes(issuer: LocalIssuer) {
  const auth = new Hono();
  auth.get(`${AUTH_PATH}/.well-known/jwks.json`, (c) => {
    c.header('cache-control', 'public, max-age=300');
    return c.json(issuer.jwks());
  });

  auth.get(`${AUTH_PATH}/config`, (c) =>
    c.json({ mode: 'local' as const, issuer: issuer.issuer, clientId: issuer.clientId }),
  );

  auth.post(`${AUTH_PATH}/login`, async (c) => {
    // JSON only: a cross-site HTML form cannot send it, so no page can sign a visitor in as someone else.
    if (!c.req.header('content-type')?.toLowerCase().startsWith('application/json')) {
      return fail(c, 415, 'bad_request', 'send the sign-in as application/json');
    }
    const body = LoginBody.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) return fail(c, 400, 'bad_request', 'send { "username": string, "password": string }');
    try {
      const result = await issuer.login(body.data.username, body.data.password);
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
