// POST /api/projects/:projectId/imports (admins): existing labels, already parsed into import items (the CLI reads
// COCO, VOC, YOLO and CSV files), as labels or as box proposals to review. Answers the report: 200 when it is clean
// (applied unless dryRun), 400 with the same report when any row has a problem (then nothing was written).

import { Hono } from 'hono';
import { z } from 'zod';
import { badRequest } from '../../domain/errors.js';
import { failureMessage, importLabels } from '../../domain/interchange/import/import-labels.js';
import { access, BODY_LIMITS } from '../access.js';
import type { AppEnv } from '../types.js';
import { valid } from '../validate.js';

export const MAX_IMPORT_ITEMS = 500;
export const MAX_IMPORT_BOXES = 50_000;

const coordinate = z.number().finite().min(-1_000_000).max(1_000_000);
const text = (max: number) => z.string().max(max);

const importBox = z.object({
  source: text(300),
  class: z.string().trim().min(1).max(200),
  /** [x1, y1, x2, y2] pixels of the upright image, or fractions of its size when `normalized`. */
  box: z.tuple([coordinate, coordinate, coordinate, coordinate]),
  normalized: z.boolean().optional(),
  score: z.number().min(0).max(1).optional(),
});

const importItem = z.object({
  source: text(500),
  file: z.string().min(1).max(1024),
  extensionUnknown: z.boolean().optional(),
  width: z.number().positive().max(1_000_000).optional(),
  height: z.number().positive().max(1_000_000).optional(),
  classes: z.array(z.object({ name: z.string().trim().min(1).max(200), confidence: z.number().min(0).max(1) })).max(1000).optional(),
  ambiguous: z.boolean().optional(),
  boxes: z.array(importBox).max(10_000),
  labelerId: text(200).optional(),
  at: text(64).optional(),
});

const importBody = z.object({
  mode: z.enum(['labels', 'proposals']),
  overwrite: z.boolean().optional(),
  dryRun: z.boolean().optional(),
  items: z.array(importItem).min(1).max(MAX_IMPORT_ITEMS),
});

export const importRoutes = new Hono<AppEnv>().post('/:projectId/imports', access('owner', { maxBodyBytes: 16 * BODY_LIMITS.MiB }), valid('json', importBody), async (c) => {
  const body = c.req.valid('json');
  const boxes = body.items.reduce((n, i) => n + i.boxes.length, 0);
  if (boxes > MAX_IMPORT_BOXES) throw badRequest(`items: ${boxes} boxes in one request, at most ${MAX_IMPORT_BOXES}: send fewer items per request`, { field: 'items' });
  const projectId = c.req.param('projectId');
  const { report, labeledSampleIds } = await importLabels(c.var.deps.stores, { ...body, projectId, labelerId: c.var.identity.userId });
  if (!report.ok) throw badRequest(failureMessage(report), { field: 'items', ...report });
  // New labels change the ranking: retrain, as after a labeler's label.
  if (labeledSampleIds.length) c.var.deps.onLabeled?.(projectId, labeledSampleIds);
  return c.json(report);
});
