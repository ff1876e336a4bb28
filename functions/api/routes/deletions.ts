// Deletions (owners only, see access.ts): an image, a selection or filter of images, one labeler's annotations, a
// whole project (confirmed by typing its name). Each starts a job (functions/domain/deletion.ts) and answers 202
// with its status; GET the status URL for progress. Where the job runs is the app's DeletionRunner: in this process
// by default (the local stack), the export queue and function in the cloud (functions/deletion/). A project's record
// goes first, so its status is read from `/api/deletions/<project>/<jobId>` (the project routes answer 404 at once).
// Mounted at /api.

import { Hono, type Context } from 'hono';
import { z } from 'zod';
import {
  deletionStatus,
  launchDeletion,
  MAX_IMAGE_IDS,
  startImageDeletion,
  startLabelerDeletion,
  startProjectDeletion,
  type DeletionJob,
  type DeletionRunner,
} from '../../domain/deletion.js';
import { inProcessDeletionRunner } from '../../deletion/runners.js';
import { wholeAudit } from '../../domain/audit-log.js';
import { WinnowError } from '../../domain/errors.js';
import { access, BODY_LIMITS, PLAIN_ID, validateParams } from '../access.js';
import { apiLog } from '../errors.js';
import type { AppEnv } from '../types.js';
import { valid } from '../validate.js';

/** Wait before a deletion's last check for writes that were in flight when it started (an ingest, a save). */
const SETTLE_MS = 2000;

const imageId = z.string().regex(PLAIN_ID, 'not an image id');
const bulkBody = z.union([
  z.strictObject({ imageIds: z.array(imageId).min(1).max(MAX_IMAGE_IDS) }),
  z.strictObject({
    filter: z.strictObject({
      status: z.enum(['pending', 'ready', 'failed']).optional(),
      labeledClass: z.string().min(1).max(200).optional(),
    }),
  }),
  // One labeler's annotations, for names a path cannot carry (e.g. an email address or a space).
  z.strictObject({ labelerId: z.string().trim().min(1).max(128) }),
]);
const confirmBody = z.strictObject({ confirm: z.string().max(500) }).partial();

const statusUrl = (job: DeletionJob) =>
  job.kind === 'project'
    ? `/api/deletions/${job.projectId}/${job.jobId}`
    : `/api/projects/${job.projectId}/deletions/${job.jobId}`;

/** The app's runner, or this process: a failure is kept in the job's status (and logged). */
function runnerOf(c: Context<AppEnv>): DeletionRunner {
  const { deps } = c.var;
  return (
    deps.deletions ??
    inProcessDeletionRunner(deps.stores, {
      settleMs: SETTLE_MS,
      onLabeled: deps.onLabeled,
      onError: (job, err) => apiLog(deps).error(`deletion ${job.jobId} of project ${job.projectId} failed`, { error: err }),
    })
  );
}

/** Starts the job behind the response; a runner that cannot take it: 503 naming the problem (launchDeletion). */
async function launch(c: Context<AppEnv>, job: DeletionJob) {
  await launchDeletion(c.var.deps.stores, job, runnerOf(c));
  const url = statusUrl(job);
  c.header('location', url);
  return c.json({ ...job, statusUrl: url }, 202);
}

/**
 * A project deletion removes its own record last (nothing of the project remains), and a worker in another process
 * (the cloud's export function) cannot tell this one how it ended: the project being gone and its audit log naming
 * the job as its deletion say it is done.
 */
async function projectDeletionStatus(c: Context<AppEnv>, projectId: string, jobId: string): Promise<DeletionJob> {
  const { stores } = c.var.deps;
  try {
    return await deletionStatus(stores, projectId, jobId);
  } catch (err) {
    if (!(err instanceof WinnowError && err.code === 'not_found') || (await stores.projects.get(projectId))) throw err;
    for await (const entry of wholeAudit(stores.blobs, projectId)) {
      if (entry.action !== 'project.delete' || entry.target?.jobId !== jobId) continue;
      return { jobId, projectId, kind: 'project', status: 'done', phase: 'done', target: {}, progress: { done: 0 }, deleted: {}, by: entry.actor, createdAt: entry.at, updatedAt: entry.at };
    }
    throw err;
  }
}

async function confirmOf(c: Context<AppEnv>): Promise<string | undefined> {
  const query = c.req.query('confirm');
  if (query !== undefined) return query;
  const text = await c.req.text();
  if (!text.trim()) return undefined;
  const parsed = confirmBody.safeParse(JSON.parse(text));
  if (!parsed.success) throw new SyntaxError('expected {"confirm": "<project name>"}');
  return parsed.data.confirm;
}

export const deletionRoutes = new Hono<AppEnv>()
  .delete('/projects/:projectId', access('owner'), async (c) => {
    const job = await startProjectDeletion(c.var.deps.stores, c.req.param('projectId'), await confirmOf(c), c.var.identity.userId);
    return launch(c, job);
  })
  .delete('/projects/:projectId/images/:imageId', access('owner'), async (c) => {
    const { projectId, imageId: id } = c.req.param();
    return launch(c, await startImageDeletion(c.var.deps.stores, projectId, { imageIds: [id] }, c.var.identity.userId));
  })
  .post('/projects/:projectId/deletions', access('owner', { maxBodyBytes: BODY_LIMITS.MiB }), valid('json', bulkBody), async (c) => {
    const projectId = c.req.param('projectId');
    const body = c.req.valid('json');
    const { stores } = c.var.deps;
    const by = c.var.identity.userId;
    return launch(c, 'labelerId' in body ? await startLabelerDeletion(stores, projectId, body.labelerId, by) : await startImageDeletion(stores, projectId, body, by));
  })
  .delete('/projects/:projectId/labelers/:labelerId/annotations', access('owner'), async (c) => {
    const { projectId, labelerId } = c.req.param();
    return launch(c, await startLabelerDeletion(c.var.deps.stores, projectId, labelerId, c.var.identity.userId));
  })
  .get('/projects/:projectId/deletions/:jobId', access('owner'), async (c) => {
    const { projectId, jobId } = c.req.param();
    return c.json(await deletionStatus(c.var.deps.stores, projectId, jobId));
  })
  .get('/deletions/:project/:jobId', access('owner'), async (c) => {
    const { project, jobId } = c.req.param();
    validateParams({ projectId: project });
    return c.json(await projectDeletionStatus(c, project, jobId));
  });
