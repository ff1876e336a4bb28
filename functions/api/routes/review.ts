import { Hono } from 'hono';
import { z } from 'zod';
import { projectAgreement } from '../../domain/agreement.js';
import { requireSample } from '../../domain/annotate.js';
import { projectQuality } from '../../domain/quality.js';
import { getProject } from '../../domain/projects.js';
import { SimilarUnavailable } from '../../domain/similar.js';
import { presentNeighbours } from '../neighbours.js';
import { presentSamples } from '../present.js';
import { access } from '../access.js';
import type { AppEnv } from '../types.js';
import { valid } from '../validate.js';

const similarQuery = z.object({ k: z.coerce.number().int().min(1).max(200).default(24) });

export const reviewRoutes = new Hono<AppEnv>()
  // Owners only: it names which labelers disagree with whom (as the gallery's split filter, also owner-only).
  .get('/:projectId/agreement', access('owner'), async (c) => c.json(await projectAgreement(c.var.deps.stores, c.req.param('projectId'))))
  .get('/:projectId/quality', access('member'), async (c) => c.json(await projectQuality(c.var.deps.stores, c.req.param('projectId'), c.var.deps.auditRate)))
  .get('/:projectId/review/mislabeled', access('owner'), async (c) => {
    const deps = c.var.deps;
    const project = await getProject(deps.stores, c.req.param('projectId'));
    const suspects = (await deps.stores.rankings.get(project.id))?.suspects ?? [];
    const samples = await deps.stores.samples.getSamples(project.id, suspects.map((s) => s.sampleId));
    const presented = new Map((await presentSamples(deps, samples)).map((p) => [p.sample.sampleId, p]));
    const items = suspects.flatMap((s) => {
      const p = presented.get(s.sampleId);
      return p ? [{ ...p, given: { class: project.classes[s.givenClass], probability: s.givenProbability }, predicted: { class: project.classes[s.predictedClass], probability: s.predictedProbability } }] : [];
    });
    return c.json({ items });
  })
  .get('/:projectId/samples/:sampleId/similar', access('member'), valid('query', similarQuery), async (c) => {
    const deps = c.var.deps;
    const [projectId, sampleId] = [c.req.param('projectId'), c.req.param('sampleId')];
    if (!deps.similar) {
      await requireSample(deps.stores, projectId, sampleId);
      return c.json({ items: [], message: 'similarity search is not available here' });
    }
    // The look-up needs only the id: the sample's own record (a missing one is a 404) is read with its look-alikes'.
    try {
      const neighbours = await deps.similar(projectId, sampleId, c.req.valid('query').k);
      return c.json({ items: await presentNeighbours(deps, projectId, sampleId, neighbours) });
    } catch (err) {
      if (!(err instanceof SimilarUnavailable)) throw err;
      await requireSample(deps.stores, projectId, sampleId);
      return c.json({ items: [], message: err.message });
    }
  });
