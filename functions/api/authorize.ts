// Authorization at the edge, in one place: which identity may touch which project, and which routes are for
// admins (project owners) only. Non-members get 403 without learning anything about the project's content.

import type { MiddlewareHandler } from 'hono';
import { requireAdmin, requireProjectAccess } from '../auth/membership.js';
import { getProject } from '../domain/projects.js';
import type { AppEnv } from './types.js';

/** Sub-routes of a project that only admins may use (owner views: all images, exports, uploads, review, feature and label imports). */
const ADMIN_ONLY = /^\/(images|export\.csv|exports|uploads|review|features|imports)(\/|$)/;

export const authorizeProject: MiddlewareHandler<AppEnv> = async (c, next) => {
  const projectId = c.req.param('projectId');
  if (projectId) {
    const project = await getProject(c.var.deps.stores, projectId);
    requireProjectAccess(c.var.identity, project);
    const rest = new URL(c.req.url).pathname.split(`/api/projects/${encodeURIComponent(projectId)}`)[1] ?? '';
    if (c.req.method === 'PATCH' || ADMIN_ONLY.test(rest)) requireAdmin(c.var.identity);
  }
  await next();
};

export const adminOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  requireAdmin(c.var.identity);
  await next();
};
