// Route-level authorization, declared beside each route: every route's first handler is `access(level)`, which
// authenticates, validates the path's ids, checks the level against the project the router matched, and bounds
// the request body. The router's own match is what gets authorized, so no spelling of a path can reach a route
// without its check; `accessGate` refuses any matched route that declares nothing (fail closed).
//
// Levels: public (no token), signed-in (any valid token), member (a member of the project in `:projectId`, or
// an admin), owner (an admin; admins own every project). A missing project and one the caller is not a member
// of answer the same 404 with the same body, so labelers cannot probe which project ids exist.

import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { canAccessProject, requireAdmin } from '../auth/membership.js';
import { badRequest, notFound, WinnowError } from '../domain/errors.js';
import { ID_PATTERN, type Project } from '../domain/model.js';
import type { AppEnv, Identity } from './types.js';

export const ACCESS_LEVELS = ['public', 'signed-in', 'member', 'owner'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

const KiB = 1024;
const MiB = 1024 * KiB;
/** Body limit of a route that names none: enough for the small JSON bodies most routes take. */
export const DEFAULT_MAX_BODY = 16 * KiB;
export const BODY_LIMITS = { small: DEFAULT_MAX_BODY, KiB, MiB } as const;

export interface RouteAccess {
  level: AccessLevel;
  /** Largest request body the route reads, in bytes (HTTP 413 above it). */
  maxBodyBytes: number;
}

const DECLARED = Symbol.for('winnow.route-access');
type Declared = MiddlewareHandler & { [DECLARED]?: RouteAccess };

/** What a route handler declares, or undefined (for handlers Hono wrapped when mounting, the inner one). */
export function declaredAccess(handler: unknown): RouteAccess | undefined {
  let h = handler as (Declared & { __COMPOSED_HANDLER?: unknown }) | undefined;
  for (let depth = 0; h && depth < 4; depth++) {
    if (h[DECLARED]) return h[DECLARED];
    h = h.__COMPOSED_HANDLER as typeof h;
  }
  return undefined;
}

/** Path parameters: the project id follows the project rule; every other id is short and plain. */
const PARAM_RULES: Record<string, { pattern: RegExp; rule: string }> = {
  projectId: { pattern: ID_PATTERN, rule: "lower-case letters, digits, '-' or '_' (at most 63)" },
};
/** Any id other than a project's, in a path or a body: short and plain. */
export const PLAIN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ID_RULE = { pattern: PLAIN_ID, rule: "letters, digits, '.', '-' or '_' (at most 128)" };

export function validateParams(params: Record<string, string>): void {
  for (const [name, value] of Object.entries(params)) {
    const { pattern, rule } = PARAM_RULES[name] ?? ID_RULE;
    if (!pattern.test(value)) {
      const shown = value.length > 40 ? `${value.slice(0, 40)}... (${value.length} characters)` : value;
      throw badRequest(`${name}: "${shown}" is not a valid id: ${rule}`, { field: name });
    }
  }
}

/** The one answer for a project that does not exist and for one the caller may not see. */
export const projectNotFound = (projectId: string) => notFound(`project "${projectId}"`);

async function visibleProject(c: Context<AppEnv>, identity: Identity, projectId: string): Promise<Project> {
  const project = await c.var.deps.stores.projects.get(projectId);
  if (!project || !canAccessProject(identity, project)) throw projectNotFound(projectId);
  return project;
}

/** Whether a signed-in caller may use a route of this level; `projectId` is the project the router matched. */
async function authorize(c: Context<AppEnv>, level: AccessLevel, identity: Identity, projectId: string | undefined): Promise<void> {
  if (level === 'public' || level === 'signed-in') return;
  if (projectId !== undefined) await visibleProject(c, identity, projectId);
  else if (level === 'member') throw new WinnowError('forbidden', 'this route names no project to be a member of');
  if (level === 'owner') requireAdmin(identity);
}

/**
 * The first handler of every route: `.get('/:projectId/images', access('owner'), ...)`. Authenticates (except
 * public routes), then validates the path's ids (so a caller without a token learns nothing but 401), then
 * authorizes, then bounds the body: `maxBodyBytes`, default 16 KiB.
 * `labelsInFlight`: the route may run while labels this process has answered are still completing (next-sample and
 * the label itself, which handle that themselves). Every other route of a project first waits for them
 * (domain/label-completions.ts), so what it reads includes every label already answered.
 */
export function access(level: AccessLevel, options: { maxBodyBytes?: number; labelsInFlight?: boolean } = {}): MiddlewareHandler<AppEnv> {
  const declared: RouteAccess = { level, maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY };
  const handler: Declared = async (c, next) => {
    const params = c.req.param() as Record<string, string>;
    const identity = level === 'public' ? undefined : await c.var.deps.authenticate(c.req.raw);
    if (identity) c.set('identity', identity);
    validateParams(params);
    if (identity) await authorize(c, level, identity, params.projectId);
    await limitBody(c, declared.maxBodyBytes);
    const completions = c.var.deps?.stores.labelCompletions;
    if (completions && params.projectId && !options.labelsInFlight) await completions.settled(params.projectId);
    await next();
  };
  handler[DECLARED] = declared;
  return handler as MiddlewareHandler<AppEnv>;
}

const tooLarge = (limit: number) =>
  new WinnowError('payload_too_large', `the request body is larger than this route accepts (${limit} bytes)`, {
    field: 'body',
    limitBytes: limit,
  });

/**
 * Reads the body up to `limit` bytes: a Content-Length above it is refused before reading, and the bytes that
 * actually arrive are counted too (a missing or lying Content-Length changes nothing). Memory stays at `limit`.
 */
export async function limitBody(c: Context, limit: number): Promise<void> {
  const raw = c.req.raw;
  // A GET or HEAD request has no body (Fetch), and asking for one makes the Node server build a full Request.
  if (raw.method === 'GET' || raw.method === 'HEAD' || !raw.body) return;
  const declaredLength = raw.headers.get('content-length');
  if (declaredLength !== null && !(Number(declaredLength) <= limit)) throw tooLarge(limit);
  const reader = raw.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  const headers = new Headers(raw.headers);
  headers.set('content-length', String(size));
  c.req.raw = new Request(raw.url, { method: raw.method, headers, body, signal: raw.signal });
}

/**
 * API paths have one spelling: ids are plain (see validateParams), so a percent sign, an empty segment or a
 * trailing slash can only be another spelling of some path, and is refused before routing decides anything.
 * `.` and `..` segments (also as %2e) are resolved by URL parsing before the app sees the path.
 */
export function canonicalPathProblem(url: string): string | undefined {
  const start = url.indexOf('/', url.indexOf('://') + 3);
  const end = url.search(/[?#]/);
  const path = start < 0 ? '/' : url.slice(start, end < 0 ? undefined : end);
  if (path.includes('%')) return 'percent-encoded characters are not used in API paths (ids are plain letters, digits, ., - and _)';
  if (path.length > 1 && path.endsWith('/')) return 'API paths have no trailing slash';
  if (path.includes('//')) return 'API paths have no empty segments';
  if (/(^|\/)\.\.?(\/|$)/.test(path)) return 'API paths have no . or .. segments';
  if (path.length > 8192) return 'the path is too long';
  return undefined;
}

/**
 * Runs before anything else on /api/*: refuses paths that are not in their one canonical spelling, and any
 * matched route whose handlers declare no access level (a route added without `access(...)` is never served).
 */
export const accessGate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const problem = canonicalPathProblem(c.req.url);
  if (problem) throw badRequest(`path: ${problem}`, { field: 'path' });
  // Each matched route's first handler is the one that must declare (access(...) comes first).
  const firstHandlers = new Map<string, unknown>();
  for (const route of matchedRoutes(c)) {
    if (route.method === 'ALL') continue; // middleware (app.use) and catch-alls
    const key = `${route.method} ${route.path}`;
    if (!firstHandlers.has(key)) firstHandlers.set(key, route.handler);
  }
  for (const [route, handler] of firstHandlers) {
    if (!declaredAccess(handler)) {
      throw new WinnowError('forbidden', `${route} declares no access level, so it is not served`);
    }
  }
  await next();
};
