import { Hono } from 'hono';
import { z } from 'zod';
import { badRequest } from '../../domain/errors.js';
import { BUCKET_LAYOUT } from '../../domain/layout.js';
import { getProject } from '../../domain/projects.js';
import { access, BODY_LIMITS } from '../access.js';
import { objectUrls } from '../present.js';
import type { AppEnv } from '../types.js';
import { valid } from '../validate.js';

export const UPLOAD_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/tiff', 'image/avif'] as const;
const MAX_BYTES = 64 * 1024 * 1024;

const uploadBody = z.object({
  files: z
    .array(
      z.object({
        /** Path inside the project, e.g. `daisy/IMG_001.jpg` (folders kept from a dropped folder). */
        name: z.string().min(1).max(512),
        contentType: z.enum(UPLOAD_TYPES),
        bytes: z.number().int().min(1).max(MAX_BYTES),
      }),
    )
    .min(1)
    .max(500),
});

/** A safe relative object name: no absolute paths, no `..`, no control characters, forward slashes only. */
export function safeObjectName(name: string): string {
  const clean = name.replace(/\\/g, '/').replace(/^\.?\/+/, '');
  const parts = clean.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..') || /[\u0000-\u001f\u007f]/.test(clean)) {
    throw badRequest(`file name "${name}" is not a safe relative path`, { field: 'files.name' });
  }
  return clean;
}

export const uploadRoutes = new Hono<AppEnv>().post('/:projectId/uploads', access('owner', { maxBodyBytes: BODY_LIMITS.MiB }), valid('json', uploadBody), async (c) => {
  const deps = c.var.deps;
  const project = await getProject(deps.stores, c.req.param('projectId'));
  const ttl = Math.min(deps.presignTtlSeconds ?? 900, 3600);
  const uploads = await Promise.all(
    c.req.valid('json').files.map(async (file) => {
      const key = BUCKET_LAYOUT.uploadKey(project.id, safeObjectName(file.name));
      const url = await objectUrls(deps).putUrl(key, file.contentType, ttl);
      return { name: file.name, key, url, method: 'PUT' as const, headers: { 'content-type': file.contentType }, expiresIn: ttl };
    }),
  );
  return c.json({ uploads });
});
