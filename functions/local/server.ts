// The local HTTP server: the API app plus the built web app on one origin, with the security headers a
// browser needs to keep labelers safe (images come from the S3 emulator's origin through presigned URLs).

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { createApp } from '../api/app.js';
import type { ApiDeps } from '../api/types.js';

export interface LocalServerOptions extends ApiDeps {
  webDir?: string;
  /** Origin the presigned image URLs point at (allowed by the CSP). */
  imageOrigin: string;
  /** The local issuer's routes (`/auth/*`) when sign-in is on. */
  authRoutes?: () => { fetch: (request: Request, env?: unknown) => Response | Promise<Response> } | undefined;
}

export function createLocalServer(opts: LocalServerOptions) {
  const root = new Hono();
  root.use('*', async (c, next) => {
    await next();
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'no-referrer');
    c.header('x-frame-options', 'DENY');
    c.header(
      'content-security-policy',
      `default-src 'self'; img-src 'self' blob: data: ${opts.imageOrigin}; connect-src 'self' ${opts.imageOrigin}; ` +
        `style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'`,
    );
  });
  // The web app asks how to sign in: the local issuer, or nobody (loopback, a labeler name is enough).
  root.all('/auth/*', (c) => {
    const routes = opts.authRoutes?.();
    if (routes) return routes.fetch(c.req.raw, c.env); // the Node bindings: sign-in throttling needs the client's address
    if (c.req.path === '/auth/config') return c.json({ mode: 'none' });
    return c.json({ code: 'not_found', message: 'sign-in is off on this server', requestId: crypto.randomUUID() }, 404);
  });
  root.route('/', createApp(opts));
  // Unknown API paths answer in the API's error shape, never with the web app's shell.
  root.all('/api/*', (c) =>
    c.json({ code: 'not_found', message: `no route ${c.req.method} ${c.req.path}`, requestId: crypto.randomUUID() }, 404),
  );
  const webDir = opts.webDir;
  if (webDir && existsSync(path.join(webDir, 'index.html'))) {
    const rel = path.relative(process.cwd(), webDir) || '.';
    root.use('/*', serveStatic({ root: rel }));
    // Client-side routes fall back to the app shell.
    root.get('*', async (c) => c.html(await readFile(path.join(webDir, 'index.html'), 'utf8')));
  } else {
    root.get('/', (c) => c.text('Winnow API is running; the web app is not built (run `npm run build`).', 200));
  }
  return root;
}
