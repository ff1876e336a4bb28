// The project's trained classifier as a download (owners only, see access.ts): one ONNX file (embedder graph + head +
// softmax, class names and model card in its metadata) or the plain head (weights.npy, bias.npy, classes.json,
// model-card.json in a zip). 409 with the reason while there is no model to export.

import { Hono } from 'hono';
import { z } from 'zod';
import { exportProjectModel, MODEL_FORMATS } from '../../export/model-export.js';
import { access } from '../access.js';
import type { AppEnv } from '../types.js';
import { valid } from '../validate.js';

const modelQuery = z.strictObject({ format: z.enum(MODEL_FORMATS).default('onnx') });

export const modelExportRoutes = new Hono<AppEnv>().get('/:projectId/classifier', access('owner'), valid('query', modelQuery), async (c) => {
  const deps = c.var.deps;
  const exported = await exportProjectModel(deps.stores, c.req.param('projectId'), {
    format: c.req.valid('query').format,
    auditRate: deps.auditRate,
    modelDir: deps.modelDir,
  });
  return c.body(new Uint8Array(exported.bytes).buffer, 200, {
    'content-type': exported.contentType,
    'content-disposition': `attachment; filename="${exported.fileName}"`,
    'cache-control': 'no-store',
  });
});
