import { Hono } from 'hono';
import { z } from 'zod';
import { annotate, requireSample } from '../../domain/annotate.js';
import { projectProgress } from '../../domain/progress.js';
import { labelerHistory, nextSamples, skipSample, withModelViews } from '../../domain/serving/next-samples.js';
import { undoLast } from '../../domain/undo.js';
import { presentSamples, publicAnnotation, publicSample } from '../present.js';
import { access, BODY_LIMITS } from '../access.js';
import type { AppEnv } from '../types.js';
import { valid } from '../validate.js';

const requestId = z.string().min(8).max(128).regex(/^[\w-]+$/, 'letters, digits, - or _');
const box = z.tuple([z.number(), z.number(), z.number(), z.number()]);
const annotationBody = z.object({
  version: z.number().int().min(0),
  requestId,
  confidences: z.array(z.number().min(0).max(1)).max(1000).optional(),
  classIndex: z.number().int().optional(),
  ambiguous: z.boolean().optional(),
  boxes: z
    .array(z.object({ box, classIndex: z.number().int(), source: z.enum(['labeler', 'model']).default('labeler'), score: z.number().optional() }))
    .max(5000)
    .optional(),
});
const undoBody = z.object({ requestId, sampleId: z.string().min(1).max(128).optional() });
const nextQuery = z.object({ count: z.coerce.number().int().min(1).max(50).default(1) });
const historyQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });

export const labelingRoutes = new Hono<AppEnv>()
  .get('/:projectId/next', access('member', { labelsInFlight: true }), valid('query', nextQuery), async (c) => {
    const deps = c.var.deps;
    const input = {
      projectId: c.req.param('projectId'),
      labelerId: c.var.identity.userId,
      count: c.req.valid('query').count,
      leaseMs: deps.leaseMs ?? 10 * 60_000,
      defaultAuditRate: deps.auditRate,
    };
    const { samples, done, model } = deps.serveAhead ? await deps.serveAhead.next(input) : await nextSamples(deps.stores, input);
    return c.json({ samples: await presentSamples(deps, samples), done, model });
  })
  .post('/:projectId/samples/:sampleId/annotations', access('member', { maxBodyBytes: 2 * BODY_LIMITS.MiB, labelsInFlight: true }), valid('json', annotationBody), async (c) => {
    const body = c.req.valid('json');
    const result = await annotate(c.var.deps.stores, {
      ...body,
      projectId: c.req.param('projectId'),
      sampleId: c.req.param('sampleId'),
      labelerId: c.var.identity.userId,
    });
    if (!result.replayed) {
      const { deps } = c.var;
      const { projectId, sampleId } = result.sample;
      // Not to be served again from this moment; the trainer is told once the head it reads is written.
      deps.serveAhead?.labeled(projectId, [sampleId]);
      const labeled = () => deps.onLabeled?.(projectId, [sampleId]);
      if (result.completed) void result.completed.then(labeled, () => undefined);
      else labeled();
    }
    return c.json({ sample: publicSample(result.sample), annotation: publicAnnotation(result.annotation) }, result.replayed ? 200 : 201);
  })
  .post('/:projectId/samples/:sampleId/skip', access('member'), async (c) => {
    // Skip: the lease ends now (free for others); this labeler is served it again once nothing else is left.
    const deps = c.var.deps;
    const sample = await skipSample(deps.stores, {
      projectId: c.req.param('projectId'),
      sampleId: c.req.param('sampleId'),
      labelerId: c.var.identity.userId,
    });
    deps.serveAhead?.labeled(sample.projectId, [sample.sampleId]);
    return c.json({ sample: publicSample(sample) });
  })
  .post('/:projectId/undo', access('member'), valid('json', undoBody), async (c) => {
    const body = c.req.valid('json');
    const result = await undoLast(c.var.deps.stores, {
      ...body,
      projectId: c.req.param('projectId'),
      labelerId: c.var.identity.userId,
    });
    if (!result.replayed) c.var.deps.onLabeled?.(result.sample.projectId, [result.sample.sampleId]);
    return c.json({ sample: publicSample(result.sample), undone: publicAnnotation(result.undone) });
  })
  .get('/:projectId/progress', access('member'), async (c) => {
    return c.json(await projectProgress(c.var.deps.stores, c.req.param('projectId'), c.var.identity.userId));
  })
  .get('/:projectId/history', access('member'), valid('query', historyQuery), async (c) => {
    const deps = c.var.deps;
    const projectId = c.req.param('projectId');
    const samples = await labelerHistory(deps.stores, projectId, c.var.identity.userId, c.req.valid('query').limit);
    return c.json({ items: await presentSamples(deps, await withModelViews(deps.stores, projectId, samples)) });
  })
  .get('/:projectId/samples/:sampleId', access('member'), async (c) => {
    const deps = c.var.deps;
    const sample = await requireSample(deps.stores, c.req.param('projectId'), c.req.param('sampleId'));
    const [presented] = await presentSamples(deps, await withModelViews(deps.stores, sample.projectId, [sample]));
    const history = await deps.stores.annotations.listForSample(sample.projectId, sample.sampleId);
    return c.json({ ...presented, history: history.map(publicAnnotation) });
  });
