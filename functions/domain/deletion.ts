// Deleting with everything derived: a set of images, one labeler's work in a project, or a whole project.
// Each deletion is a job whose record lives in the bucket (`deletions/<project>/<jobId>.json`): it says what is to
// be deleted and how far the job got, so that running it again (after a crash, or `resumeDeletions` at start-up)
// finishes it. Every step is idempotent (deleting what is gone already does nothing).
//
// What users see goes first: an image's samples (queue, training, exports, progress) and record (gallery) are
// removed, then its original, and only then the rest is swept (annotations, thumbnail and display copy, embedding
// rows, its place in the ranking). A project's record goes first (every route answers 404 at once, labelers' saves
// included), then every table item and every object under its prefixes, and last the job record itself: nothing of
// the project remains. Sweeps repeat until a pass finds nothing, so that a write that was in flight when the
// deletion started (an ingest that had already read the original, a label save that had already read the project)
// is swept too.

import { randomUUID } from 'node:crypto';
import { stateAfter } from './annotate.js';
import { classifierPrefix } from './classifier-store.js';
import { mapBounded } from './concurrency.js';
import { badRequest, ConditionFailed, notFound, WinnowError } from './errors.js';
import { imageIdFor } from './ingest.js';
import { topClass } from './label-validation.js';
import { addTally, tallyOfRecords } from './quality-tally.js';
import { BUCKET_LAYOUT, parseUploadKey } from './layout.js';
import { MODEL_LAYOUT } from './models.js';
import type { Annotation, ImageRecord, ImageStatus, Project, Sample, SampleLabelState } from './model.js';
import type { Stores } from './ports.js';
import { allSamples } from './progress.js';
import { getProject } from './projects.js';
import { servingMemory } from './serving/head-memory.js';

export const DELETIONS_PREFIX = 'deletions/';
const jobKey = (projectId: string, jobId: string) => `${DELETIONS_PREFIX}${projectId}/${jobId}.json`;
/** Finished jobs move here, so that looking for unfinished ones reads only those. */
const doneKey = (projectId: string, jobId: string) => `${DELETIONS_PREFIX}${projectId}/done/${jobId}.json`;

/** Writes in flight at once while deleting (the emulators and on-demand tables take this easily). */
const CONCURRENCY = 16;
/** Records read per page while resolving and sweeping. */
const PAGE = 1000;
/** Most images one request may name (a filter has no limit). */
export const MAX_IMAGE_IDS = 10_000;
/** Sweeps of a project after the first, while they still find something (writes that were in flight). */
const MAX_EXTRA_PASSES = 5;

export type DeletionKind = 'images' | 'project' | 'labeler';
export type DeletionStatus = 'running' | 'done' | 'failed';

/** Which images: every listed field must match. */
export interface ImageFilter {
  status?: ImageStatus;
  /** Images with a sample whose current label's top class is this one (a class name of the project). */
  labeledClass?: string;
}

export interface ResolvedImage {
  imageId: string;
  /** The original's key (absent when the record was already gone when resolved). */
  key?: string;
  sampleIds: string[];
}

export interface DeletionJob {
  jobId: string;
  projectId: string;
  kind: DeletionKind;
  status: DeletionStatus;
  /** resolve -> hide (what users see) -> sweep (everything derived) -> done. */
  phase: 'resolve' | 'hide' | 'sweep' | 'done';
  target: { imageIds?: string[]; filter?: ImageFilter; labelerId?: string };
  /** Images to delete with their samples, fixed once resolved (image deletions). */
  images?: ResolvedImage[];
  /** Samples the labeler annotated, fixed once resolved (labeler deletions). */
  sampleIds?: string[];
  /** Items handled so far of `total` (images, samples, or table items and objects for a project). */
  progress: { done: number; total?: number };
  /** What was deleted, by kind (filled in as the job goes). */
  deleted: Record<string, number>;
  error?: string;
  by: string;
  createdAt: string;
  updatedAt: string;
}

export interface RunOptions {
  /** Wait before the final check for writes that were in flight (a late ingest); default 0. */
  settleMs?: number;
  /**
   * Asked after each step (resolving, a chunk of images or samples, a page of a project's items): true ends this
   * run there with the job's progress saved and its status still 'running'; run it again to continue. A run always
   * makes a step first, so runs cut short still finish the job. Default: never (run to the end).
   */
  shouldPause?: () => boolean;
}

/** Where deletion jobs run once started: in this process (local stack), or a queue a worker drains (cloud). */
export interface DeletionRunner {
  start(job: DeletionJob): Promise<void>;
}

/**
 * Hands a job whose record is written to the runner. A runner that cannot take it (the cloud's queue unreachable)
 * would leave a job that looks queued while nothing runs it; instead a 503 `unavailable` error naming the problem is
 * thrown, and nothing is left half-started: a project deletion this request started puts the project back and
 * removes its job (nothing was deleted; asking again starts anew), any other job is marked failed with the reason
 * (its status says so; asking for the same deletion again finds that job and hands it over again, a failed job
 * marked running again first).
 */
export async function launchDeletion(stores: Stores, job: DeletionJob, runner: DeletionRunner): Promise<DeletionJob> {
  if (job.status === 'failed') {
    job.status = 'running';
    delete job.error;
    await saveJob(stores, job);
  }
  try {
    await runner.start(job);
    return job;
  } catch (err) {
    const reason = err instanceof Error ? err.message || err.name : String(err);
    // A send that reached the queue but answered an error: a worker may have taken the job meanwhile.
    const current = await deletionStatus(stores, job.projectId, job.jobId).catch((e: unknown) => (e instanceof WinnowError && e.code === 'not_found' ? null : undefined));
    if (current === null) return job; // run to its end meanwhile (a finished project deletion leaves no record)
    if (current && current.updatedAt !== job.updatedAt) return current;
    const project = projectsBefore.get(job);
    const details = { jobId: job.jobId, projectId: job.projectId, kind: job.kind };
    // The project back first (taken if its id is taken again meanwhile); only then its job goes. When it cannot come
    // back, the job stays (failed) so that nothing of the project is left without a job to delete it.
    const restored = project && (await stores.projects.create(project).then(() => true, (e: unknown) => e instanceof ConditionFailed));
    if (restored) {
      await stores.blobs.delete(jobKey(job.projectId, job.jobId)).catch(() => undefined);
      throw new WinnowError('unavailable', `the deletion of project "${job.projectId}" could not be started: ${reason}. Nothing was deleted: the project is back as it was. Ask again to retry.`, details);
    }
    job.status = 'failed';
    job.error = `not started: the deletion could not be queued (${reason}); ask for the same deletion again to retry`;
    await saveJob(stores, job).catch(() => undefined);
    const done = job.kind === 'project' ? ' The project is gone from the app already; its data is not deleted yet.' : ' Nothing was deleted.';
    throw new WinnowError('unavailable', `deletion job ${job.jobId} of project "${job.projectId}" could not be started: ${reason}.${done} Ask for the same deletion again to retry it.`, details);
  }
}

/** The record of a project as its deletion (started in this process, not yet handed over) found it. */
const projectsBefore = new WeakMap<DeletionJob, Project>();

/** Ends a run cut short by `shouldPause`: its record says how far it got. */
class Paused extends Error {}
const pauseIfAsked = async (stores: Stores, job: DeletionJob, opts: RunOptions) => {
  if (!opts.shouldPause?.()) return;
  await saveJob(stores, job);
  throw new Paused();
};

// ---- starting jobs ------------------------------------------------------------------------------------------------

/** Deletes the named images, or those matching the filter, with everything derived from them. */
export async function startImageDeletion(
  stores: Stores,
  projectId: string,
  target: { imageIds?: string[]; filter?: ImageFilter },
  by: string,
): Promise<DeletionJob> {
  const project = await getProject(stores, projectId);
  const { imageIds, filter } = target;
  if ((imageIds === undefined) === (filter === undefined)) throw badRequest('give either imageIds or filter', { field: 'imageIds' });
  if (imageIds) {
    if (imageIds.length === 0) throw badRequest('imageIds: name at least one image', { field: 'imageIds' });
    if (imageIds.length > MAX_IMAGE_IDS) throw badRequest(`imageIds: at most ${MAX_IMAGE_IDS} per request (use a filter for more)`, { field: 'imageIds' });
    // Batched reads (100 records a request): a retention sweep names thousands.
    const present = new Set((await stores.samples.getImages(projectId, imageIds)).map((i) => i.imageId));
    const missing = imageIds.filter((id) => !present.has(id));
    // The same request again after an interruption: the images it already hid are part of that unfinished job.
    const resumable = (await unfinished(stores, projectId, 'images')).find((j) => {
      const theirs = new Set(j.target.imageIds ?? []);
      return imageIds.every((id) => theirs.has(id));
    });
    if (resumable) return resumable;
    if (missing.length > 0) {
      const shown = missing.slice(0, 5).map((id) => `"${id}"`).join(', ');
      throw new WinnowError('not_found', `image${missing.length > 1 ? 's' : ''} ${shown}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''} not found in project "${projectId}"`, { missing: missing.slice(0, 100) });
    }
  }
  if (filter) {
    if (filter.status === undefined && filter.labeledClass === undefined) throw badRequest('filter: give status or labeledClass', { field: 'filter' });
    if (filter.labeledClass !== undefined) classIndex(project, filter.labeledClass);
    const same = (await unfinished(stores, projectId, 'images')).find((j) => j.target.filter?.status === filter.status && j.target.filter?.labeledClass === filter.labeledClass);
    if (same) return same;
  }
  return createJob(stores, projectId, 'images', { ...(imageIds ? { imageIds: [...new Set(imageIds)] } : {}), ...(filter ? { filter } : {}) }, by);
}

/**
 * Deletes the project with everything in it. `confirm` must be the project's name, typed by the owner. When the
 * project is already gone but a deletion of it did not finish, that job is returned (run it again to finish it).
 */
export async function startProjectDeletion(stores: Stores, projectId: string, confirm: string | undefined, by: string): Promise<DeletionJob> {
  const project = await stores.projects.get(projectId);
  if (!project) {
    const [resumable] = await unfinished(stores, projectId, 'project');
    if (resumable) return resumable;
    throw notFound(`project "${projectId}"`);
  }
  if (confirm === undefined || confirm.trim() !== project.name.trim()) {
    throw badRequest(`confirm: type the project's name, "${project.name}", to delete it with everything in it`, { field: 'confirm' });
  }
  const job = await createJob(stores, projectId, 'project', {}, by);
  // Gone at once, before the job is even answered: every route (labelers' saves included) now answers 404.
  await stores.projects.delete(projectId);
  projectsBefore.set(job, project);
  return job;
}

/** Removes one labeler's annotations in a project: each sample falls back to the previous label, or to unlabeled. */
export async function startLabelerDeletion(stores: Stores, projectId: string, labelerId: string, by: string): Promise<DeletionJob> {
  await getProject(stores, projectId);
  const same = (await unfinished(stores, projectId, 'labeler')).find((j) => j.target.labelerId === labelerId);
  return same ?? createJob(stores, projectId, 'labeler', { labelerId }, by);
}

async function createJob(stores: Stores, projectId: string, kind: DeletionKind, target: DeletionJob['target'], by: string): Promise<DeletionJob> {
  const at = new Date(stores.clock.now()).toISOString();
  const job: DeletionJob = {
    jobId: `del-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`,
    projectId,
    kind,
    status: 'running',
    phase: 'resolve',
    target,
    progress: { done: 0 },
    deleted: {},
    by,
    createdAt: at,
    updatedAt: at,
  };
  await saveJob(stores, job);
  return job;
}

// ---- reading jobs -------------------------------------------------------------------------------------------------

/** Project deletions remove their own record when done; this process remembers how they ended. */
const finishedProjectJobs = new WeakMap<object, Map<string, DeletionJob>>();

export async function deletionStatus(stores: Stores, projectId: string, jobId: string): Promise<DeletionJob> {
  // S3 replaces an object at once; the local emulator writes it in place, so a read may meet half a record: read again.
  // (A record being moved or deleted meanwhile can fail the read too.)
  for (let attempt = 0; ; attempt++) {
    try {
      const stored = (await stores.blobs.get(jobKey(projectId, jobId))) ?? (await stores.blobs.get(doneKey(projectId, jobId)));
      if (!stored) break;
      return JSON.parse(Buffer.from(stored.body).toString('utf8')) as DeletionJob;
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
    }
  }
  const finished = finishedProjectJobs.get(stores.blobs)?.get(`${projectId}/${jobId}`);
  if (finished) return finished;
  throw notFound(`deletion job "${jobId}" of project "${projectId}" (a finished project deletion leaves no record)`);
}

async function listJobs(stores: Stores, projectId?: string): Promise<DeletionJob[]> {
  const jobs: DeletionJob[] = [];
  let cursor: string | undefined;
  do {
    const page = await stores.blobs.list(projectId ? `${DELETIONS_PREFIX}${projectId}/` : DELETIONS_PREFIX, { cursor, limit: PAGE });
    for (const object of page.items) {
      const m = /^deletions\/([^/]+)\/([^/]+)\.json$/.exec(object.key);
      if (!m) continue;
      const job = await deletionStatus(stores, m[1], m[2]).catch(() => undefined); // finished meanwhile
      if (job) jobs.push(job);
    }
    cursor = page.cursor;
  } while (cursor);
  return jobs;
}

/** The project's unfinished jobs of one kind: asking for the same deletion again continues one of these. */
async function unfinished(stores: Stores, projectId: string, kind: DeletionKind): Promise<DeletionJob[]> {
  return (await listJobs(stores, projectId)).filter((j) => j.kind === kind && j.status !== 'done');
}

/** Deletion jobs that have not finished (crashed or still running), oldest first; of one project if given. */
export async function unfinishedDeletions(stores: Stores, projectId?: string): Promise<DeletionJob[]> {
  const jobs = await listJobs(stores, projectId);
  return jobs.filter((j) => j.status !== 'done').sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** Runs every unfinished job to its end (start-up, `winnow delete resume`); returns them as they ended. */
export async function resumeDeletions(stores: Stores, opts: RunOptions = {}): Promise<DeletionJob[]> {
  const ended: DeletionJob[] = [];
  for (const job of await unfinishedDeletions(stores)) ended.push(await runDeletion(stores, job.projectId, job.jobId, opts));
  return ended;
}

// ---- running jobs -------------------------------------------------------------------------------------------------

/** Runs the job to its end from wherever it got to; safe to call again, also while another run is going. */
export async function runDeletion(stores: Stores, projectId: string, jobId: string, opts: RunOptions = {}): Promise<DeletionJob> {
  const job = await deletionStatus(stores, projectId, jobId);
  if (job.status === 'done') return job;
  try {
    job.status = 'running';
    delete job.error;
    if (job.kind === 'images') await runImages(stores, job, opts);
    else if (job.kind === 'labeler') await runLabeler(stores, job, opts);
    else await runProject(stores, job, opts);
    return job;
  } catch (err) {
    if (err instanceof Paused) return job;
    job.status = 'failed';
    job.error = err instanceof Error ? err.message : String(err);
    await saveJob(stores, job).catch(() => undefined);
    throw err;
  }
}

async function saveJob(stores: Stores, job: DeletionJob): Promise<void> {
  job.updatedAt = new Date(stores.clock.now()).toISOString();
  const body = Buffer.from(JSON.stringify(job));
  if (job.status !== 'done' || job.kind === 'project') {
    await stores.blobs.put(jobKey(job.projectId, job.jobId), body, 'application/json');
    return;
  }
  await stores.blobs.put(doneKey(job.projectId, job.jobId), body, 'application/json');
  await stores.blobs.delete(jobKey(job.projectId, job.jobId));
}

const count = (job: DeletionJob, what: string, n = 1) => {
  if (n > 0) job.deleted[what] = (job.deleted[what] ?? 0) + n;
};

/** How often a running job rewrites its record with its progress (a record can hold 10k images). */
const PROGRESS_EVERY_MS = 2000;

/** Counts items done; saves the record now and then (every PROGRESS_EVERY_MS), not after every item. */
function progressSaver(stores: Stores, job: DeletionJob) {
  let last = performance.now();
  return async (step = 1) => {
    job.progress.done += step;
    if (performance.now() - last >= PROGRESS_EVERY_MS) {
      last = performance.now();
      await saveJob(stores, job);
    }
  };
}

// -- images

async function runImages(stores: Stores, job: DeletionJob, opts: RunOptions): Promise<void> {
  const { projectId } = job;
  if (job.phase === 'resolve') {
    job.images = await resolveImages(stores, job);
    job.phase = 'hide';
    job.progress = { done: 0, total: job.images.length };
    await saveJob(stores, job);
    await pauseIfAsked(stores, job, opts);
  }
  const images = job.images ?? [];
  if (job.phase === 'hide') {
    const step = progressSaver(stores, job);
    // A run that was cut short (or crashed after saving its progress) goes on after the images it did.
    for (const chunk of chunksOf(images.slice(job.progress.done))) {
      await hideImages(stores, job, chunk);
      await step(chunk.length);
      await pauseIfAsked(stores, job, opts);
    }
    job.phase = 'sweep';
    job.progress = { done: 0, total: images.length };
    await saveJob(stores, job);
  }
  if (job.phase === 'sweep') {
    const step = progressSaver(stores, job);
    for (const chunk of chunksOf(images.slice(job.progress.done))) {
      await sweepImages(stores, job, chunk);
      await step(chunk.length);
      await pauseIfAsked(stores, job, opts);
    }
    const sampleIds = new Set(images.flatMap((i) => i.sampleIds));
    count(job, 'embeddingRows', await stores.embeddings.removeSamples(projectId, sampleIds));
    count(job, 'rankedSamples', await removeFromRanking(stores, projectId, sampleIds));
    // An ingest that had read an original before it was deleted may have written its records since.
    if (opts.settleMs) await new Promise((r) => setTimeout(r, opts.settleMs));
    // A save by a labeler who held a lease in another process may have logged an annotation just before its sample
    // went (its head write then fails with 404): those records go too.
    await mapBounded(images, CONCURRENCY, async (image) => {
      const back = (await stores.samples.getImage(projectId, image.imageId)) ?? (await stores.samples.getSample(projectId, image.sampleIds[0] ?? image.imageId));
      if (back) await hideImages(stores, job, [image]);
      const late = await mapBounded(image.sampleIds, 4, (id) => stores.annotations.listForSample(projectId, id));
      if (back || late.some((records) => records.length > 0)) await sweepImages(stores, job, [image]);
    });
    job.phase = 'done';
    job.status = 'done';
    job.progress = { done: images.length, total: images.length };
    await saveJob(stores, job);
  }
}

async function resolveImages(stores: Stores, job: DeletionJob): Promise<ResolvedImage[]> {
  const { projectId, target } = job;
  const project = await stores.projects.get(projectId);
  const byImage = new Map<string, Sample[]>();
  const chosen: ImageRecord[] = [];
  if (target.imageIds) {
    // Named images: their own samples only (a prefix read each), not a listing of the project; records batched.
    await mapBounded(target.imageIds, CONCURRENCY, async (id) => byImage.set(id, await stores.samples.listSamplesOfImage(projectId, id)));
    const found = new Map((await stores.samples.getImages(projectId, target.imageIds)).map((i) => [i.imageId, i]));
    for (const id of target.imageIds) chosen.push(found.get(id) ?? ({ imageId: id } as ImageRecord));
  } else {
    for await (const sample of allSamples(stores, projectId)) {
      const list = byImage.get(sample.imageId);
      if (list) list.push(sample);
      else byImage.set(sample.imageId, [sample]);
    }
    const filter = target.filter ?? {};
    const wanted = filter.labeledClass !== undefined && project ? classIndex(project, filter.labeledClass) : undefined;
    for await (const image of allImages(stores, projectId)) {
      if (filter.status !== undefined && image.status !== filter.status) continue;
      if (wanted !== undefined && !(byImage.get(image.imageId) ?? []).some((s) => s.label && topClass(s.label.confidences) === wanted)) continue;
      chosen.push(image);
    }
  }
  return chosen.map((image) => ({
    imageId: image.imageId,
    ...(image.key ? { key: image.key } : {}),
    sampleIds: (byImage.get(image.imageId) ?? []).map((s) => s.sampleId),
  }));
}

/** What users see: samples (queue, training, exports, progress), the records (gallery), then the originals. */
async function hideImages(stores: Stores, job: DeletionJob, images: ResolvedImage[]): Promise<void> {
  const sampleIds = images.flatMap((i) => i.sampleIds);
  await stores.samples.deleteMany(job.projectId, { sampleIds, imageIds: images.map((i) => i.imageId) });
  for (const sampleId of sampleIds) servingMemory(stores.samples).missing(job.projectId, sampleId, stores.clock.now());
  count(job, 'samples', sampleIds.length);
  count(job, 'images', images.length);
  // After the records: an ObjectRemoved event for an original then finds nothing left to do.
  await stores.blobs.deleteMany(images.flatMap((i) => (i.key ? [i.key] : [])));
}

/** Everything else derived: annotations, thumbnails and display copies. */
async function sweepImages(stores: Stores, job: DeletionJob, images: ResolvedImage[]): Promise<void> {
  const histories = await mapBounded(images.flatMap((i) => i.sampleIds), CONCURRENCY, (id) => stores.annotations.listForSample(job.projectId, id));
  const records = histories.flat();
  await stores.annotations.deleteMany(job.projectId, records);
  count(job, 'annotations', records.length);
  const derived = images.flatMap((i) => (['thumb', 'display'] as const).map((v) => BUCKET_LAYOUT.derivedKey(job.projectId, i.imageId, v)));
  await stores.blobs.deleteMany(derived);
}

/** The images in chunks: each chunk's writes go in a few batched requests. */
const chunksOf = <T>(items: T[], size = 100): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** Takes the samples out of the project's ranking (the next retrain would too; serving must not wait for it). */
async function removeFromRanking(stores: Stores, projectId: string, sampleIds: Set<string>): Promise<number> {
  const ranking = await stores.rankings.get(projectId);
  if (!ranking || !ranking.sampleIds.some((id) => sampleIds.has(id))) return 0;
  const keep = ranking.sampleIds.map((id, i) => (sampleIds.has(id) ? -1 : i)).filter((i) => i >= 0);
  const probs = ranking.probs && new Float32Array(keep.length * ranking.classes);
  if (probs && ranking.probs) keep.forEach((row, i) => probs.set(ranking.probs!.subarray(row * ranking.classes, (row + 1) * ranking.classes), i * ranking.classes));
  const suspects = ranking.suspects?.filter((s) => !sampleIds.has(s.sampleId));
  await stores.rankings.put({
    ...ranking,
    generation: ranking.generation + 1,
    sampleIds: keep.map((i) => ranking.sampleIds[i]),
    ...(probs ? { probs } : {}),
    ...(suspects ? { suspects } : {}),
  });
  return ranking.sampleIds.length - keep.length;
}

// -- one labeler's work

async function runLabeler(stores: Stores, job: DeletionJob, opts: RunOptions): Promise<void> {
  const { projectId } = job;
  const labelerId = job.target.labelerId as string;
  if (job.phase === 'resolve') {
    const sampleIds = new Set<string>();
    for await (const a of allAnnotations(stores, projectId)) if (a.labelerId === labelerId) sampleIds.add(a.sampleId);
    job.sampleIds = [...sampleIds];
    job.phase = 'sweep';
    job.progress = { done: 0, total: sampleIds.size };
    await saveJob(stores, job);
    await pauseIfAsked(stores, job, opts);
  }
  if (job.phase === 'sweep') {
    const project = await getProject(stores, projectId);
    const step = progressSaver(stores, job);
    for (const chunk of chunksOf((job.sampleIds ?? []).slice(job.progress.done))) {
      await mapBounded(chunk, CONCURRENCY, (sampleId) => withoutLabeler(stores, job, project, sampleId, labelerId));
      await step(chunk.length);
      await pauseIfAsked(stores, job, opts);
    }
    await stores.labelers.delete(projectId, labelerId);
    job.phase = 'done';
    job.status = 'done';
    await saveJob(stores, job);
  }
}

/** The sample's state had the labeler never labeled it: their labels (and undos of them) taken out of the history. */
export function stateWithout(project: Project, history: Annotation[], labelerId: string): SampleLabelState {
  const live: Annotation[] = [];
  for (const a of [...history].sort((x, y) => x.version - y.version)) {
    if (a.kind === 'label') live.push(a);
    else if (a.undoes !== undefined) {
      const i = live.findIndex((l) => l.version === a.undoes);
      if (i >= 0) live.splice(i, 1);
    }
  }
  let state: SampleLabelState = { labeledBy: [] };
  for (const a of live) if (a.labelerId !== labelerId) state = stateAfter(project, state, a);
  return state;
}

async function withoutLabeler(stores: Stores, job: DeletionJob, project: Project, sampleId: string, labelerId: string): Promise<void> {
  const history = await stores.annotations.listForSample(project.id, sampleId);
  const theirs = history.filter((a) => a.labelerId === labelerId);
  if (theirs.length === 0) return;
  for (let attempt = 0; ; attempt++) {
    const sample = await stores.samples.getSample(project.id, sampleId);
    // Their labels' live points leave the head's quality sums (those the head has applied: quality-tally.ts).
    const points = sample && tallyOfRecords(theirs.filter((a) => a.version < sample.version));
    const affected = sample && (sample.label?.labelerId === labelerId || sample.labeledBy.includes(labelerId) || points);
    if (!sample || !affected) break;
    const state = stateWithout(project, history, labelerId);
    try {
      const next = await stores.samples.advance(project.id, sampleId, sample.version, {
        ...(state.label ? { label: state.label } : {}),
        labeledBy: state.labeledBy,
        ...(state.inEffect ? { inEffect: state.inEffect } : {}),
        ...(state.labeledBy.length < project.overlap ? { queueKey: sample.order } : {}),
        ...(points ? { liveTally: addTally(sample.liveTally, points, -1) ?? {} } : {}),
      });
      // This process serves it again at once (other processes learn within their memory's trust time).
      servingMemory(stores.samples).learn(next, stores.clock.now());
      count(job, 'samplesReverted');
      break;
    } catch (err) {
      // Someone labeled the sample meanwhile: read it again (their label stays, the labeler's goes).
      if (!(err instanceof ConditionFailed) || attempt >= 5) throw err;
    }
  }
  for (const a of theirs) await stores.annotations.delete(project.id, sampleId, a.version);
  count(job, 'annotations', theirs.length);
}

// -- a whole project

async function runProject(stores: Stores, job: DeletionJob, opts: RunOptions): Promise<void> {
  const { projectId } = job;
  if (job.phase === 'resolve' || job.phase === 'hide') {
    // Gone at once: every route (labelers' saves included) now answers 404, ingest leaves new uploads pending.
    await stores.projects.delete(projectId);
    job.phase = 'sweep';
    await saveJob(stores, job);
  }
  for (let pass = 0; pass <= MAX_EXTRA_PASSES; pass++) {
    if (pass > 0 && opts.settleMs) await new Promise((r) => setTimeout(r, opts.settleMs));
    const found = await sweepProject(stores, job, opts);
    if (found === 0) break;
  }
  job.phase = 'done';
  job.status = 'done';
  job.progress.total = job.progress.done;
  let finished = finishedProjectJobs.get(stores.blobs);
  if (!finished) finishedProjectJobs.set(stores.blobs, (finished = new Map()));
  finished.set(`${projectId}/${job.jobId}`, structuredClone(job));
  // Last: the job's own record (a crash before this line re-runs a sweep that finds nothing).
  await stores.blobs.delete(jobKey(projectId, job.jobId));
}

/** One pass over everything stored for the project; returns how many items it deleted. */
async function sweepProject(stores: Stores, job: DeletionJob, opts: RunOptions): Promise<number> {
  const { projectId } = job;
  const step = progressSaver(stores, job);
  let found = 0;
  const drain = async <T>(what: string, page: () => Promise<T[]>, remove: (items: T[]) => Promise<void>) => {
    for (;;) {
      const items = await page();
      if (items.length === 0) return;
      await remove(items);
      found += items.length;
      count(job, what, items.length);
      await step(items.length);
      await pauseIfAsked(stores, job, opts);
    }
  };
  // Table items before objects: an ObjectRemoved event for an original then finds no image to delete. Batched:
  // 25 items a DynamoDB request, 1000 objects an S3 request.
  await drain('samples', async () => (await stores.samples.listSamples(projectId, { limit: PAGE })).items, (page) => stores.samples.deleteMany(projectId, { sampleIds: page.map((s) => s.sampleId) }));
  await drain('images', async () => (await stores.samples.listImages(projectId, { limit: PAGE })).items, (page) => stores.samples.deleteMany(projectId, { imageIds: page.map((i) => i.imageId) }));
  await drain('annotations', async () => (await stores.annotations.listForProject(projectId, { limit: PAGE })).items, (page) => stores.annotations.deleteMany(projectId, page));
  await drain('labelers', async () => await stores.labelers.list(projectId), (page) => mapBounded(page, CONCURRENCY, (l) => stores.labelers.delete(projectId, l.labelerId)).then(() => undefined));
  if (await stores.rankings.get(projectId)) {
    await stores.rankings.delete(projectId);
    found++;
    count(job, 'rankings');
  }
  for (const prefix of projectPrefixes(projectId)) {
    await drain('objects', async () => (await stores.blobs.list(prefix, { limit: PAGE })).items, (page) => stores.blobs.deleteMany(page.map((o) => o.key)));
  }
  // Earlier deletion jobs of the project (images, labelers): their records name images and labelers.
  const own = jobKey(projectId, job.jobId);
  await drain('objects', async () => (await stores.blobs.list(`${DELETIONS_PREFIX}${projectId}/`, { limit: PAGE })).items.filter((o) => o.key !== own), (page) => stores.blobs.deleteMany(page.map((o) => o.key)));
  return found;
}

/** Every bucket prefix that holds objects of a project (the deletion job's own record aside). */
export function projectPrefixes(projectId: string): string[] {
  return [
    BUCKET_LAYOUT.uploadKey(projectId, ''),
    `derived/${projectId}/`,
    BUCKET_LAYOUT.embeddingsPrefix(projectId),
    BUCKET_LAYOUT.exportsPrefix(projectId),
    // The auto-labeler's calibration basis (functions/domain/autolabel.ts).
    `autolabel/${projectId}/`,
    // The model the trainer ranked with, kept for the classifier export (classifier-store.ts).
    classifierPrefix(projectId),
    // The record of the project's re-embed job (one key; as a prefix it matches only itself).
    MODEL_LAYOUT.reembedJob(projectId),
  ];
}

// ---- an original removed from the bucket directly (`aws s3 rm`) ------------------------------------------------------

/**
 * The original of an image was removed from the bucket (an ObjectRemoved event): delete the image with everything
 * derived. Nothing happens when the record is gone already (Winnow's own deletions remove it first), when the key
 * holds an object again (removed and uploaded anew), or when the project is gone (its deletion sweeps).
 * With `runner` the job is only written and handed to it (the cloud: the export queue, so that ingest needs no
 * deletes); without, it runs here to its end (the local stack).
 */
export async function originalRemoved(stores: Stores, key: string, opts: RunOptions & { runner?: DeletionRunner } = {}): Promise<DeletionJob | undefined> {
  const parsed = parseUploadKey(key);
  if (!parsed) return undefined;
  const imageId = imageIdFor(key);
  const image = await stores.samples.getImage(parsed.projectId, imageId);
  if (!image || image.key !== key) return undefined;
  if (!(await stores.projects.get(parsed.projectId))) return undefined;
  if (await stores.blobs.head(key)) return undefined;
  const job = await createJob(stores, parsed.projectId, 'images', { imageIds: [imageId] }, 'bucket:ObjectRemoved');
  if (opts.runner) {
    try {
      await opts.runner.start(job);
    } catch (err) {
      // Nothing will run it: no record is left behind (the event is delivered again and writes a new job).
      await stores.blobs.delete(jobKey(job.projectId, job.jobId)).catch(() => undefined);
      throw err;
    }
    return job;
  }
  return runDeletion(stores, parsed.projectId, job.jobId, opts);
}

// ---- helpers ------------------------------------------------------------------------------------------------------

function classIndex(project: Project, name: string): number {
  const i = project.classes.indexOf(name);
  if (i < 0) throw badRequest(`filter.labeledClass: "${name}" is not a class of this project (${project.classes.join(', ')})`, { field: 'filter.labeledClass' });
  return i;
}

async function* allImages(stores: Stores, projectId: string): AsyncGenerator<ImageRecord> {
  let cursor: string | undefined;
  do {
    const page = await stores.samples.listImages(projectId, { cursor, limit: PAGE });
    yield* page.items;
    cursor = page.cursor;
  } while (cursor);
}

async function* allAnnotations(stores: Stores, projectId: string): AsyncGenerator<Annotation> {
  let cursor: string | undefined;
  do {
    const page = await stores.annotations.listForProject(projectId, { cursor, limit: PAGE });
    yield* page.items;
    cursor = page.cursor;
  } while (cursor);
}
