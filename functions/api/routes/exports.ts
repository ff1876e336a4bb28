// Exports of a project's labels (owners only, see access.ts): start a job, then poll it until it is done and
// carries a short-lived download link. The job streams into the bucket; the API never holds the file.

import { Hono } from 'hono';
import { z } from 'zod';
import { WinnowError } from '../../domain/errors.js';
import { EXPORT_FORMATS } from '../../domain/interchange/export/formats.js';
import { exportStatus, startExport, type ExportDeps } from '../../domain/interchange/export/job.js';
import { access } from '../access.js';
import type { AppEnv } from '../types.js';
import { valid } from '../validate.js';

const exportBody = z.strictObject({
  format: z.enum(EXPORT_FORMATS),
  /** 'labeled': images with at least one label (after the filters); 'all': every ready image. */
  include: z.enum(['labeled', 'all']).default('labeled'),
  labelerId: z.string().trim().min(1).max(128).optional(),
  excludeAmbiguous: z.boolean().default(false),
  /** Also export auto-labels (written by the model); off by default. */
  includeModelLabels: z.boolean().default(false),
  /** Copy the originals (upright) into the archive. */
  images: z.boolean().default(true),
});

function exportDeps(deps: { exports?: ExportDeps }): ExportDeps {
  if (!deps.exports) throw new WinnowError('unavailable', 'exports are not set up on this server');
  return deps.exports;
}

const statusPath = (projectId: string, exportId: string) =>
  `/api/projects/${encodeURIComponent(projectId)}/exports/${encodeURIComponent(exportId)}`;

export const exportRoutes = new Hono<AppEnv>()
  .post('/:projectId/exports', access('owner'), valid('json', exportBody), async (c) => {
    const projectId = c.req.param('projectId');
    const status = await startExport(exportDeps(c.var.deps), projectId, c.req.valid('json'), c.var.identity.userId);
    const url = statusPath(projectId, status.exportId);
    c.header('location', url);
    return c.json({ ...status, statusUrl: url }, 202);
  })
  .get('/:projectId/exports/:exportId', access('owner'), async (c) => {
    const { projectId, exportId } = c.req.param();
    return c.json(await exportStatus(exportDeps(c.var.deps), projectId, exportId));
  });
