// Writes the audit log (domain/audit-log.ts) for the routes that change a project in ways owners answer for, in one
// place instead of in each route: after a route answered with success, the entry names the route's action, the
// caller, the ids in its path and a few ids and counts from its answer. Label writes one at a time are not logged
// (the annotation history has them); bulk ones are (imports, auto-label runs). Membership and account changes are
// logged by the team routes themselves, which know what changed.

import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { recordAudit, type AuditAction, type AuditEntry } from '../domain/audit-log.js';
import { apiLog } from './errors.js';
import type { AppEnv } from './types.js';

type Picked = Record<string, string | number | boolean>;

interface Audited {
  action: AuditAction | ((body: any) => AuditAction);
  /** Ids and counts from the JSON answer (never names of files or labels). */
  from?: (body: any) => Picked;
}

const count = (key: string, list: unknown): Picked => (Array.isArray(list) ? { [key]: list.length } : {});
/** A deletion job's id, and what it targets by id or count (a filter's class name is a label: left out). */
const job = (body: any): Picked => ({
  ...(typeof body?.jobId === 'string' ? { jobId: body.jobId } : {}),
  ...(typeof body?.target?.labelerId === 'string' ? { labelerId: body.target.labelerId } : {}),
  ...(Array.isArray(body?.target?.imageIds) ? { images: body.target.imageIds.length } : {}),
  ...(typeof body?.target?.filter?.status === 'string' ? { status: body.target.filter.status } : {}),
});

/** The project's retention settings after the change (days; absent = kept forever). */
const retention = (body: any): Picked => {
  const r = body?.project?.retention;
  return {
    ...(typeof r?.exportsDays === 'number' ? { exportsDays: r.exportsDays } : {}),
    ...(typeof r?.originalsDaysAfterExport === 'number' ? { originalsDaysAfterExport: r.originalsDaysAfterExport } : {}),
  };
};

/** `METHOD /full/route/pattern` -> what it does. */
export const AUDITED: Record<string, Audited> = {
  'POST /api/projects': { action: 'project.create', from: (b) => ({ projectId: b?.project?.id, ...retention(b) }) },
  'PATCH /api/projects/:projectId': { action: 'project.edit', from: (b) => ({ version: b?.project?.version, ...retention(b) }) },
  'DELETE /api/projects/:projectId': { action: 'project.delete', from: job },
  'DELETE /api/projects/:projectId/images/:imageId': { action: 'images.delete', from: job },
  'POST /api/projects/:projectId/deletions': { action: (b) => (b?.kind === 'labeler' ? 'labels.delete' : 'images.delete'), from: job },
  'DELETE /api/projects/:projectId/labelers/:labelerId/annotations': { action: 'labels.delete', from: job },
  'POST /api/projects/:projectId/uploads': { action: 'images.upload', from: (b) => count('files', b?.uploads) },
  'POST /api/projects/:projectId/imports': { action: 'labels.import', from: (b) => numbers(b) },
  'POST /api/projects/:projectId/features': { action: 'features.import', from: (b) => numbers(b) },
  'POST /api/projects/:projectId/exports': {
    action: 'export.start',
    from: (b) => ({ ...(b?.exportId ? { exportId: b.exportId } : {}), ...(b?.format ? { format: b.format } : {}) }),
  },
  'POST /api/projects/:projectId/autolabel': { action: 'autolabel.run', from: (b) => ({ ...(b?.batchId ? { batchId: b.batchId } : {}), ...numbers(b) }) },
  'POST /api/projects/:projectId/autolabel/:batchId/undo': { action: 'autolabel.undo', from: (b) => numbers(b) },
};

/** The top-level numbers and booleans of an answer (counts such as `labeled`, `restored`, `dryRun`). */
function numbers(body: any): Picked {
  const out: Picked = {};
  for (const [k, v] of Object.entries(body ?? {})) if (typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  return out;
}

/** The values of `:name` segments of `pattern` in `path`. */
function pathParams(pattern: string, path: string): Record<string, string> {
  const names = pattern.split('/');
  const parts = path.split('/');
  const out: Record<string, string> = {};
  names.forEach((n, i) => {
    if (n.startsWith(':') && parts[i] !== undefined) out[n.slice(1)] = parts[i];
  });
  return out;
}

function routeOf(c: Context<AppEnv>): string | undefined {
  const route = matchedRoutes(c).find((r) => r.method !== 'ALL' && AUDITED[`${r.method} ${r.path}`]);
  return route && `${route.method} ${route.path}`;
}

export const auditTrail: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  if (c.req.method === 'GET' || c.res.status >= 300) return;
  const route = routeOf(c);
  const identity = c.get('identity');
  if (!route || !identity) return;
  const audited = AUDITED[route];
  const body = c.res.headers.get('content-type')?.includes('json') ? await c.res.clone().json().catch(() => undefined) : undefined;
  const { projectId: fromPath, ...params } = pathParams(route.split(' ')[1], new URL(c.req.url).pathname);
  const picked = audited.from?.(body) ?? {};
  const projectId = fromPath ?? (typeof picked.projectId === 'string' ? picked.projectId : undefined);
  if (!projectId) return;
  delete picked.projectId;
  const entry: AuditEntry = {
    projectId,
    at: new Date(c.var.deps.stores.clock.now()).toISOString(),
    actor: identity.userId,
    action: typeof audited.action === 'function' ? audited.action(body) : audited.action,
    target: Object.fromEntries(Object.entries({ ...params, ...picked }).filter(([, v]) => v !== undefined)) as Picked,
    requestId: c.get('requestId'),
  };
  // The action is done already: a log write that fails is reported, not turned into a failed request.
  await recordAudit(c.var.deps.stores.blobs, entry).catch((err) =>
    apiLog(c.var.deps).error('audit entry not written', { requestId: entry.requestId, action: entry.action, projectId, error: err }),
  );
};
