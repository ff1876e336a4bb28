// Auto-labeling (owner only): what labeling the confident rest at a promised precision would do, doing it as one
// batch, listing the batches and undoing one. The decision and its guarantee live in functions/domain/autolabel.ts.

import { Hono } from 'hono';
import { z } from 'zod';
import {
  DEFAULT_AUTOLABEL_PRECISION,
  listAutolabelBatches,
  MAX_PRECISION,
  MIN_PRECISION,
  previewAutolabel,
  runAutolabel,
  undoAutolabel,
} from '../../domain/autolabel.js';
import { access } from '../access.js';
import type { AppEnv } from '../types.js';
import { valid } from '../validate.js';

const precision = z.coerce.number().min(MIN_PRECISION).max(MAX_PRECISION).default(DEFAULT_AUTOLABEL_PRECISION);
const previewQuery = z.object({ precision });
const runBody = z.strictObject({ precision });

export const autolabelRoutes = new Hono<AppEnv>()
  .get('/:projectId/autolabel', access('owner'), valid('query', previewQuery), async (c) => {
    const { stores } = c.var.deps;
    const projectId = c.req.param('projectId');
    const [preview, batches] = await Promise.all([
      previewAutolabel(stores, projectId, c.req.valid('query').precision).catch((err: Error & { code?: string }) => {
        if (err.code === 'conflict') return { possible: false, reason: err.message };
        throw err;
      }),
      listAutolabelBatches(stores, projectId),
    ]);
    return c.json({ preview, batches });
  })
  .post('/:projectId/autolabel', access('owner'), valid('json', runBody), async (c) => {
    const deps = c.var.deps;
    const projectId = c.req.param('projectId');
    const { sampleIds, ...report } = await runAutolabel(deps.stores, projectId, { precision: c.req.valid('json').precision, by: c.var.identity.userId });
    if (sampleIds.length > 0) deps.onLabeled?.(projectId, sampleIds);
    return c.json(report);
  })
  .post('/:projectId/autolabel/:batchId/undo', access('owner'), async (c) => {
    const deps = c.var.deps;
    const projectId = c.req.param('projectId');
    const { sampleIds, ...result } = await undoAutolabel(deps.stores, projectId, c.req.param('batchId'), c.var.identity.userId);
    if (sampleIds.length > 0) deps.onLabeled?.(projectId, sampleIds);
    return c.json(result);
  });
