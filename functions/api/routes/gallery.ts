// The gallery's data manager (domain/gallery.ts): samples with their labels, filtered, sorted and key-paged, and
// the counts for every filter value. `split=true` lists the samples labelers disagree on (with splitA and splitB: that
// pair; with splitClass: splits where one of them chose that class), what the agreement figures count. Owners only, like the rest of the gallery.

import { Hono } from 'hono';
import { z } from 'zod';
import { classIndexOf, galleryCounts, galleryPage, GALLERY_SORTS, type GalleryFilter } from '../../domain/gallery.js';
import { badRequest } from '../../domain/errors.js';
import { getProject } from '../../domain/projects.js';
import { access } from '../access.js';
import { objectUrls, thumbObject } from '../present.js';
import type { AppEnv } from '../types.js';
import { valid } from '../validate.js';

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');
const confidence = z.coerce.number().min(0).max(1);
const galleryQuery = z.object({
  class: z.string().max(100).optional(),
  labeler: z.string().max(128).optional(),
  source: z.enum(['labeler', 'model']).optional(),
  minConfidence: confidence.optional(),
  maxConfidence: confidence.optional(),
  ambiguous: flag.optional(),
  disagrees: flag.optional(),
  unlabeled: flag.optional(),
  split: flag.optional(),
  splitA: z.string().min(1).max(128).optional(),
  splitB: z.string().min(1).max(128).optional(),
  splitClass: z.string().max(100).optional(),
  kind: z.enum(['image', 'box']).optional(),
  sort: z.enum(GALLERY_SORTS).default('upload'),
  cursor: z.string().max(4000).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** Both of a pair or neither. */
function pairOf(a: string | undefined, b: string | undefined): [string, string] {
  if (a === undefined || b === undefined) {
    throw badRequest(`split${a === undefined ? 'A' : 'B'}: a pair of labelers needs both splitA and splitB`, { field: a === undefined ? 'splitA' : 'splitB' });
  }
  return [a, b];
}

export const galleryRoutes = new Hono<AppEnv>()
  .get('/:projectId/gallery', access('owner'), valid('query', galleryQuery), async (c) => {
    const deps = c.var.deps;
    const q = c.req.valid('query');
    const project = await getProject(deps.stores, c.req.param('projectId'));
    const filter: GalleryFilter = {
      ...(q.class !== undefined ? { classIndex: classIndexOf(project, q.class) } : {}),
      ...(q.labeler !== undefined ? { labelerId: q.labeler } : {}),
      ...(q.source ? { source: q.source } : {}),
      ...(q.minConfidence !== undefined ? { minConfidence: q.minConfidence } : {}),
      ...(q.maxConfidence !== undefined ? { maxConfidence: q.maxConfidence } : {}),
      ...(q.ambiguous !== undefined ? { ambiguous: q.ambiguous } : {}),
      ...(q.disagrees !== undefined ? { disagrees: q.disagrees } : {}),
      ...(q.unlabeled !== undefined ? { unlabeled: q.unlabeled } : {}),
      ...(q.kind ? { kind: q.kind } : {}),
      ...(q.split !== undefined ? { split: q.split } : {}),
      ...(q.splitA !== undefined || q.splitB !== undefined ? { splitBetween: pairOf(q.splitA, q.splitB) } : {}),
      ...(q.splitClass !== undefined ? { splitClass: classIndexOf(project, q.splitClass) } : {}),
    };
    const page = await galleryPage(deps.stores, project.id, { filter, sort: q.sort, cursor: q.cursor, limit: q.limit });
    const ttl = deps.presignTtlSeconds ?? 900;
    const urls = objectUrls(deps);
    const thumbs = new Map<string, Promise<string>>();
    const thumbUrl = (imageId: string) => {
      let url = thumbs.get(imageId);
      if (!url) {
        const thumb = thumbObject({ projectId: project.id, imageId });
        thumbs.set(imageId, (url = urls.getUrl(thumb.key, ttl, { contentType: thumb.contentType })));
      }
      return url;
    };
    const items = await Promise.all(page.items.map(async (item) => ({ ...item, thumbUrl: await thumbUrl(item.imageId) })));
    return c.json({ ...page, items });
  })
  .get('/:projectId/gallery/counts', access('owner'), async (c) =>
    c.json(await galleryCounts(c.var.deps.stores, c.req.param('projectId'), c.var.identity.userId)),
  );
