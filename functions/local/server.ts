// The local HTTP server: the API app, the built web app and the signed file routes (`/files/...`: images, uploads,
// downloads) on one origin, with the security headers a browser needs to keep labelers safe. Browsers talk to
// nothing else: no other origin is allowed to connect, frame or load images, and no CORS header is ever sent.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { createApp } from '../api/app.js';
import type { ApiDeps } from '../api/types.js';
import { isLoopbackHost } from './config.js';

export interface LocalServerOptions extends ApiDeps {
  webDir?: string;
  /** The signed file routes (`/files/*`), mounted before the API. */
  files?: Hono;
  /** The local issuer's routes (`/auth/*`) when sign-in is on. */
  authRoutes?: () => { fetch: (request: Request, env?: unknown) => Response | Promise<Response> } | undefined;
  /** The public origin (known once listening); requests must name it, or a loopback name, as their Host. */
  publicOrigin?: () => string;
}

/**
 * Whether a request's Host is one this server answers to: the public URL's host, or a loopback name on any port
 * (this machine: the CLI, a dev server's proxy). Anything else is a page on another site whose name was pointed at
 * this server (DNS rebinding), which must not get an answer a browser would let that site read.
 */
function hostAllowed(host: string | undefined, publicOrigin: string | undefined): boolean {
  if (!host) return true;
  const h = host.toLowerCase();
  if (publicOrigin && h === new URL(publicOrigin).host) return true;
  const name = h.startsWith('[') ? h.slice(1, h.indexOf(']')) : h.replace(/:\d+$/, '');
  return isLoopbackHost(name);
}

export function createLocalServer(opts: LocalServerOptions) {
  const root = new Hono();
  root.use('*', async (c, next) => {
    const host = c.req.header('host');
    const publicOrigin = opts.publicOrigin?.();
    if (!hostAllowed(host, publicOrigin)) {
      return c.json(
        { code: 'misdirected', message: `this server answers as ${publicOrigin ?? 'localhost'}, not as ${host}`, requestId: crypto.randomUUID() },
        421,
      );
    }
    await next();
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'no-referrer');
    c.header('x-frame-options', 'DENY');
    // Files keep their own, stricter policy.
    if (!c.res.headers.has('content-security-policy')) c.header(
      'content-security-policy',
      `default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; ` +
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
  if (opts.files) root.route('/', opts.files);
  root.route('/', createApp(opts));
  // Unknown API paths answer in the API's error shape, never with the web app's shell.
  root.all('/api/*', (c) =>
    c.json({ code: 'not_found', message: `no route ${c.req.method} ${c.req.path}`, requestId: crypto.randomUUID() }, 404),
  );
  const webDir = opts.webDir;
  if (webDir && existsSync(path.join(webDir, 'index.html'))) {
    const rel = path.relative(process.cwd(), webDir) || '.';
    root.use('/*', serveStatic({ root: rel }));
    // Client-side routes fall back to the app shell: as the not-found answer, not a catch-all route, so no API
    // path ever matches a route without a declared access level (the API's access gate refuses those).
    root.notFound(async (c) =>
      c.req.method === 'GET' || c.req.method === 'HEAD'
        ? c.html(await readFile(path.join(webDir, 'index.html'), 'utf8'))
        : c.json({ code: 'not_found', message: `no route ${c.req.method} ${c.req.path}`, requestId: crypto.randomUUID() }, 404),
    );
  } else {
    root.get('/', (c) => c.text('Winnow API is running; the web app is not built (run `npm run build`).', 200));
  }
  return root;
}
