// The world the attack suites run in: the one API app (createApp, as the local server and the Lambda serve it) and
// the local issuer's /auth routes, in process, on in-memory stores, with real tokens from the local issuer. The
// route table is read from the apps themselves (Hono's `routes`), with each route's declared access level, so a
// route added tomorrow is attacked without anyone listing it here.

import { createHash } from 'node:crypto';
import { inProcessExportRunner } from '../../functions/adapters/export/runners.js';
import { zipArchive } from '../../functions/adapters/export/zip.js';
import { createMemoryStores, type MemoryStores } from '../../functions/adapters/memory/index.js';
import type { Stores } from '../../functions/domain/ports.js';
import { declaredAccess, type RouteAccess } from '../../functions/api/access.js';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import type { ApiDeps } from '../../functions/api/types.js';
import { openLocalIssuer } from '../../functions/auth/local-issuer.js';
import { createAuthRoutes } from '../../functions/auth/routes.js';
import { addUser } from '../../functions/auth/users.js';
import { createJwtAuthenticate } from '../../functions/auth/verify.js';
import { runExport, type ExportDeps } from '../../functions/domain/interchange/export/job.js';
import { createProject } from '../../functions/domain/projects.js';
import { memoryExportObjects, plainImageFiles } from '../interchange/export-support.js';
import { ManualClock, sampleFixture } from '../support/fixtures.js';
import { tempDir } from '../support/stack.js';

export const ORIGIN = 'http://127.0.0.1:8787';
export const PASSWORD = 'Correct-Horse-42!';
/** The project the labeler labels; the other labeler labels OTHER_PROJECT only. */
export const PROJECT = 'pa';
export const OTHER_PROJECT = 'pb';

export const PRINCIPALS = ['no token', 'forged', 'expired', 'labeler of the project', 'labeler of another project', 'admin'] as const;
export type Principal = (typeof PRINCIPALS)[number];

export interface Route {
  method: string;
  /** Hono's pattern, e.g. /api/projects/:projectId/images */
  path: string;
  app: 'api' | 'auth';
  /** Undefined when the route declares nothing (which is itself a finding). */
  access?: RouteAccess;
}

export interface World {
  api: ReturnType<typeof createApp>;
  auth: ReturnType<typeof createAuthRoutes>;
  stores: Stores;
  routes: Route[];
  tokens: Record<Principal, string | undefined>;
  exportId: string;
  /** What createApp was given (to build the local server around the same app). */
  deps: ApiDeps;
}

/** A handler as written, not as Hono wrapped it when mounting a sub-app with its own error handler. */
function innermost(handler: unknown): (...args: unknown[]) => unknown {
  let h = handler as { __COMPOSED_HANDLER?: unknown };
  while (h.__COMPOSED_HANDLER) h = h.__COMPOSED_HANDLER as typeof h;
  return h as unknown as (...args: unknown[]) => unknown;
}

/** The routes of a Hono app, one per method and path, with the access level their first handler declares. */
export function routeTable(app: { routes: { method: string; path: string; handler: unknown }[] }, name: Route['app']): Route[] {
  const byKey = new Map<string, Route>();
  for (const r of app.routes) {
    // app.use() middleware is registered for ALL methods and calls next(); an ALL entry that cannot (one parameter)
    // is an endpoint added with app.all(), which must declare its access like any other route.
    if (r.method === 'ALL' && innermost(r.handler).length >= 2) continue;
    const key = `${r.method} ${r.path}`;
    if (!byKey.has(key)) byKey.set(key, { method: r.method, path: r.path, app: name, access: declaredAccess(r.handler) });
  }
  return [...byKey.values()];
}

/** The world on in-memory stores, or on the stores given (e.g. the AWS adapters on dynalite + s3rver). */
export async function createWorld(options: { stores?: Stores } = {}): Promise<World> {
  const dataDir = await tempDir('attack');
  await addUser(dataDir, { username: 'olga', password: PASSWORD, groups: ['admin'] });
  await addUser(dataDir, { username: 'lars', password: PASSWORD, groups: ['labeler'] });
  await addUser(dataDir, { username: 'lena', password: PASSWORD, groups: ['labeler'] });
  const issuer = await openLocalIssuer({ dataDir, origin: ORIGIN });
  // Same key, clock two hours back: correctly signed, expired tokens.
  const past = await openLocalIssuer({ dataDir, origin: ORIGIN, now: () => Date.now() - 2 * 3600_000 });
  // Same user and issuer URL, another data folder's key: a forgery.
  const foreignDir = await tempDir('attack-foreign');
  await addUser(foreignDir, { username: 'olga', password: PASSWORD, groups: ['admin'] });
  const foreign = await openLocalIssuer({ dataDir: foreignDir, origin: ORIGIN });

  const tokens: Record<Principal, string | undefined> = {
    'no token': undefined,
    forged: (await foreign.login('olga', PASSWORD)).idToken,
    expired: (await past.login('olga', PASSWORD)).idToken,
    'labeler of the project': (await issuer.login('lars', PASSWORD)).idToken,
    'labeler of another project': (await issuer.login('lena', PASSWORD)).idToken,
    admin: (await issuer.login('olga', PASSWORD)).idToken,
  };

  const stores = options.stores ?? createMemoryStores(new ManualClock(Date.now()));
  await createProject(stores, { id: PROJECT, classes: ['a', 'b'], members: ['lars'] }, 'olga');
  await createProject(stores, { id: OTHER_PROJECT, classes: ['a', 'b'], members: ['lena'] }, 'olga');
  await stores.samples.putSamplesIfAbsent([
    ...Array.from({ length: 40 }, (_, i) => sampleFixture(PROJECT, i + 1)),
    ...Array.from({ length: 4 }, (_, i) => sampleFixture(OTHER_PROJECT, i + 1)),
  ]);
  for (const projectId of [PROJECT, OTHER_PROJECT]) {
    await stores.blobs.put(`uploads/${projectId}/a.jpg`, new Uint8Array([1, 2, 3]), 'image/jpeg');
    await stores.samples.putImageIfAbsent({
      projectId, imageId: 'i1', key: `uploads/${projectId}/a.jpg`, etag: 'e', bytes: 3, status: 'ready',
      order: 'o', createdAt: 'c', updatedAt: 'u', width: 4, height: 3,
    });
  }
  let deps: ExportDeps;
  const runner = inProcessExportRunner((job) => runExport(deps, job), () => undefined);
  deps = {
    stores,
    // Only the BlobStore port's get/put/presignGet are used, so these serve any store.
    objects: memoryExportObjects(stores.blobs as MemoryStores['blobs']),
    createArchive: (sink) => zipArchive(sink),
    images: plainImageFiles(stores as MemoryStores),
    defaultEmbeddingModel: 'm',
    runner,
  };
  const apiDeps: ApiDeps = {
    stores,
    featureVectors: shardFeatureVectors(stores.blobs, stores.clock),
    authenticate: createJwtAuthenticate({ issuer: issuer.issuer, clientId: issuer.clientId, jwks: issuer.jwks() }),
    presignTtlSeconds: 60,
    exports: deps,
  };
  const api = createApp(apiDeps);
  const auth = createAuthRoutes(issuer);
  const started = await api.request(`/api/projects/${PROJECT}/exports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ format: 'csv', images: false }),
  });
  const exportId = ((await started.json()) as { exportId: string }).exportId;
  await runner.idle();
  return { api, auth, stores, routes: [...routeTable(api, 'api'), ...routeTable(auth, 'auth')], tokens, exportId, deps: apiDeps };
}

/** A value for each path parameter that names something real in PROJECT. */
export function paramValue(world: World, name: string): string {
  if (name === 'projectId') return PROJECT;
  if (name === 'sampleId') return 's1';
  if (name === 'imageId') return 'i1';
  if (name === 'exportId') return world.exportId;
  return 'x1';
}

export const paramNames = (path: string) => [...path.matchAll(/:(\w+)/g)].map((m) => m[1]);

export function fillPath(path: string, value: (name: string) => string): string {
  return path.replace(/:(\w+)(\{[^}]*\})?/g, (_m, name: string) => value(name));
}

let made = 0;
const f32 = (values: number[]) => Buffer.from(new Float32Array(values).buffer).toString('base64');

/** A valid body for the routes that take one (so allowed cells run the route); `{}` for a route not listed here. */
export function validBody(route: Route): unknown {
  const key = `${route.method} ${route.path}`;
  const rid = `req-${createHash('sha1').update(`${key}${++made}`).digest('hex').slice(0, 12)}`;
  switch (key) {
    case 'POST /api/projects':
      return { id: `made-${++made}`, classes: ['x', 'y'] };
    case 'PATCH /api/projects/:projectId':
      return { version: 1, name: 'renamed' };
    case 'POST /api/projects/:projectId/samples/:sampleId/annotations':
      return { version: 0, requestId: rid, classIndex: 0 };
    case 'POST /api/projects/:projectId/undo':
      return { requestId: rid };
    case 'POST /api/projects/:projectId/exports':
      return { format: 'csv', images: false };
    case 'POST /api/projects/:projectId/imports':
      return { mode: 'labels', dryRun: true, items: [{ source: 'row 1', file: 'a.jpg', boxes: [], classes: [{ name: 'a', confidence: 1 }] }] };
    case 'POST /api/projects/:projectId/uploads':
      return { files: [{ name: 'b.jpg', contentType: 'image/jpeg', bytes: 10 }] };
    case 'POST /api/projects/:projectId/features':
      return { model: 'byo', dtype: 'f32', rows: [{ file: 'a.jpg', vector: f32([1, 0, 0, 0]) }] };
    case 'POST /auth/login':
      return { username: 'olga', password: PASSWORD };
    default:
      return route.method === 'GET' || route.method === 'HEAD' ? undefined : {};
  }
}

export interface Answer {
  status: number;
  json: any;
  text: string;
}

export async function send(world: World, route: Pick<Route, 'app'>, method: string, path: string, token?: string, body?: unknown, extra: RequestInit = {}): Promise<Answer> {
  const target = route.app === 'auth' ? world.auth : world.api;
  const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}) };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await target.request(path, {
    method,
    headers: { ...headers, ...(extra.headers as Record<string, string> | undefined) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    ...(extra.body !== undefined ? { body: extra.body, duplex: 'half' } : {}),
  } as RequestInit);
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** True when the answer is a rejection in the one error shape: { code, message, requestId } (strings). */
export const isErrorBody = (json: any) =>
  !!json && typeof json.code === 'string' && typeof json.message === 'string' && typeof json.requestId === 'string' && json.requestId.length > 0;
