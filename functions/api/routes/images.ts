import { Hono } from 'hono';
import { z } from 'zod';
import { notFound } from '../../domain/errors.js';
import { displayObject } from '../../domain/display-image.js';
import { getProject } from '../../domain/projects.js';
import { objectUrls, presentImage, thumbObject } from '../present.js';
import { access } from '../access.js';
import type { AppEnv } from '../types.js';
import { valid } from '../validate.js';

const listQuery = z.object({
  status: z.enum(['pending', 'ready', 'failed']).optional(),
  cursor: z.string().max(2000).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const fileQuery = z.object({ variant: z.enum(['display', 'thumb']).default('display') });

export const imageRoutes = new Hono<AppEnv>()
  .get('/:projectId/images', access('owner'), valid('query', listQuery), async (c) => {
    const deps = c.var.deps;
    const projectId = c.req.param('projectId');
    await getProject(deps.stores, projectId);
    const q = c.req.valid('query');
    // Key-paged with the filter applied by the store: a page may hold fewer than `limit` (then follow the cursor).
    const page = await deps.stores.samples.listImages(projectId, { cursor: q.cursor, limit: q.limit, status: q.status });
    return c.json({ images: await Promise.all(page.items.map((i) => presentImage(deps, i))), cursor: page.cursor });
  })
  .get('/:projectId/images/:imageId/file', access('owner'), valid('query', fileQuery), async (c) => {
    const deps = c.var.deps;
    const image = await deps.stores.samples.getImage(c.req.param('projectId'), c.req.param('imageId'));
    if (!image || image.status !== 'ready') throw notFound(`image "${c.req.param('imageId')}"`);
    const file = c.req.valid('query').variant === 'display' ? displayObject(image) : thumbObject(image);
    return c.redirect(await objectUrls(deps).getUrl(file.key, deps.presignTtlSeconds ?? 900, { contentType: file.contentType }), 302);
  });
