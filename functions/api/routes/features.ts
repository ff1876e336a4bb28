// POST /api/projects/:projectId/features (admins): bring-your-own embeddings, up to 1000 rows per request.
// Vectors travel as base64 of little-endian float16 (`dtype: 'f16'`, what the shards store) or float32.

import { Hono } from 'hono';
import { z } from 'zod';
import { badRequest } from '../../domain/errors.js';
import { halfToFloat32 } from '../../domain/half.js';
import { FEATURE_MODEL_PATTERN, importFeatures } from '../../domain/import-features.js';
import { access, BODY_LIMITS } from '../access.js';
import type { AppEnv } from '../types.js';
import { valid } from '../validate.js';

export const MAX_FEATURE_ROWS = 1000;
const MAX_DIMS = 4096;

const pixel = z.number().int().min(0).max(1_000_000);
const featuresBody = z.object({
  model: z.string().regex(FEATURE_MODEL_PATTERN, "lower-case letters, digits, '.', '-' or '_' (max 64)"),
  dtype: z.enum(['f16', 'f32']),
  rows: z
    .array(
      z.object({
        /** Path under uploads/<project>/, e.g. `daisy/1.jpg`. */
        file: z.string().min(1).max(512),
        /** [x1, y1, x2, y2] = [left, top, right, bottom] in pixels. */
        box: z.tuple([pixel, pixel, pixel, pixel]).optional(),
        /** A class name of the project. */
        label: z.string().trim().min(1).max(100).optional(),
        vector: z.string().min(4).max(Math.ceil((MAX_DIMS * 4) / 3) + 4).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64'),
        /** The row's line in the user's CSV, echoed in errors. */
        line: z.number().int().min(1).optional(),
      }),
    )
    .min(1)
    .max(MAX_FEATURE_ROWS),
});

export const featureRoutes = new Hono<AppEnv>().post('/:projectId/features', access('owner', { maxBodyBytes: 32 * BODY_LIMITS.MiB }), valid('json', featuresBody), async (c) => {
  const body = c.req.valid('json');
  const { stores } = c.var.deps;
  const rows = body.rows.map((row, i) => ({ ...row, vector: decodeVector(row.vector, body.dtype, row.line ? `line ${row.line}` : `row ${i + 1}`) }));
  const result = await importFeatures(stores, c.var.deps.featureVectors, {
    projectId: c.req.param('projectId'),
    model: body.model,
    rows,
    labelerId: c.var.identity.userId,
  });
  // New vectors (and labels) change the ranking: retrain, as after a label.
  c.var.deps.onLabeled?.(c.req.param('projectId'), result.labeledSampleIds);
  const { labeledSampleIds: _ids, ...counts } = result;
  return c.json(counts);
});

function decodeVector(base64: string, dtype: 'f16' | 'f32', where: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  const size = dtype === 'f16' ? 2 : 4;
  if (bytes.length === 0 || bytes.length % size !== 0) {
    throw badRequest(`${where}: vector is ${bytes.length} bytes, not a whole number of ${dtype} values`, { field: 'rows' });
  }
  const owned = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length); // aligned copy
  return dtype === 'f16' ? halfToFloat32(new Uint16Array(owned)) : new Float32Array(owned);
}
