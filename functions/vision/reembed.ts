// Switching a project's embedder: every ready image (and each of its box samples) is embedded again with the new
// model in the background, into the new model's own shard folder; the job record in the bucket shows progress.
// Once every image that existed when the job started has its new embedding, the project switches (the trainer then
// reads the new shards, see domain/retrain.ts) and images ingested meanwhile with the old model are caught up;
// the old model's shards are deleted last. Until the switch the project keeps training and serving on the old
// embeddings, so labelers never see a half-embedded project.

import { ConditionFailed } from '../domain/errors.js';
import { MODEL_LAYOUT, type RegisteredModel, type ReembedJob } from '../domain/models.js';
import type { Project } from '../domain/model.js';
import type { Log, Stores } from '../domain/ports.js';
import { decodeImage } from './decode.js';
import { appendEmbeddings, embeddingsPrefix, listShards, type EmbeddingRow } from '../adapters/embeddings/shards.js';
import { EmbeddingReader } from '../adapters/embeddings/reader.js';
import type { ModelRegistry } from './registry.js';

export interface ReembedDeps {
  stores: Stores;
  registry: ModelRegistry;
  onSwitched?: (projectId: string) => void;
  log?: Log;
}

const running = new Map<string, Promise<ReembedJob>>();

export async function readReembedJob(stores: Pick<Stores, 'blobs'>, projectId: string): Promise<ReembedJob | undefined> {
  const object = await stores.blobs.get(MODEL_LAYOUT.reembedJob(projectId));
  return object ? (JSON.parse(new TextDecoder().decode(object.body)) as ReembedJob) : undefined;
}

async function writeJob(stores: Stores, job: ReembedJob): Promise<void> {
  await stores.blobs.put(MODEL_LAYOUT.reembedJob(job.projectId), new TextEncoder().encode(JSON.stringify(job)), 'application/json');
}

/** Ready images of the project, all pages. */
async function readyImages(stores: Stores, projectId: string) {
  const images = [];
  let cursor: string | undefined;
  do {
    const page = await stores.samples.listImages(projectId, { cursor, limit: 500 });
    images.push(...page.items.filter((i) => i.status === 'ready'));
    cursor = page.cursor;
  } while (cursor);
  return images;
}

/** Starts the job (one per project at a time) and returns its first record; the work goes on in the background. */
export async function startReembed(deps: ReembedDeps, projectId: string, model: RegisteredModel, by: string): Promise<ReembedJob> {
  const { stores } = deps;
  if (running.has(projectId)) {
    const current = await readReembedJob(stores, projectId);
    if (current?.status === 'running') return current;
  }
  const project = await stores.projects.get(projectId);
  if (!project) throw new Error(`project ${projectId} is gone`);
  const images = await readyImages(stores, projectId);
  const now = new Date(stores.clock.now()).toISOString();
  const job: ReembedJob = {
    projectId,
    model: model.name,
    from: project.embedding?.model ?? 'default',
    status: 'running',
    total: images.length,
    done: 0,
    skipped: 0,
    startedAt: now,
    updatedAt: now,
    startedBy: by,
  };
  await writeJob(stores, job);
  const work = run(deps, job, model, images.map((i) => i.imageId)).finally(() => running.delete(projectId));
  running.set(projectId, work);
  return job;
}

/** Waits for a running job of this process (tests, shutdown). */
export function reembedIdle(projectId: string): Promise<unknown> {
  return running.get(projectId) ?? Promise.resolve();
}

async function run(deps: ReembedDeps, job: ReembedJob, model: RegisteredModel, imageIds: string[]): Promise<ReembedJob> {
  const { stores } = deps;
  let lastWrite = 0;
  const progress = async (force = false) => {
    job.updatedAt = new Date(stores.clock.now()).toISOString();
    if (force || Date.now() - lastWrite > 500) {
      lastWrite = Date.now();
      await writeJob(stores, job);
    }
  };
  try {
    const embedder = await deps.registry.embedder(model);
    const embedImage = async (imageId: string) => {
      const image = await stores.samples.getImage(job.projectId, imageId);
      const original = image && (await stores.blobs.get(image.key));
      if (!image || !original) return false;
      let decoded;
      try {
        decoded = await decodeImage(original.body);
      } catch {
        return false;
      }
      const boxes = (await stores.samples.listSamplesOfImage(job.projectId, imageId)).filter((s) => s.kind === 'box' && s.box);
      const tensors = await Promise.all([embedder.tensor(decoded), ...boxes.map((s) => embedder.tensor(decoded, s.box))]);
      const vectors = await embedder.embedTensors(tensors.map((t) => t.data), { transfer: true });
      const rows: EmbeddingRow[] = [{ sampleId: imageId, vector: vectors[0] }, ...boxes.map((s, i) => ({ sampleId: s.sampleId, vector: vectors[i + 1] }))];
      await appendEmbeddings(stores.blobs, job.projectId, model.name, rows);
      return true;
    };
    // Two images at a time: the embedder batches what is queued together.
    // Progress is written at least every half second while images complete (the API reports a job silent for minutes
    // as interrupted).
    const pass = async (ids: string[], count: boolean) => {
      let next = 0;
      await Promise.all(
        [0, 1].map(async () => {
          while (next < ids.length) {
            const ok = await embedImage(ids[next++]);
            if (count) {
              if (ok) job.done++;
              else job.skipped++;
              await progress();
            }
          }
        }),
      );
    };
    await pass(imageIds, true);
    await progress(true);
    await switchProject(stores, job.projectId, model.name);
    deps.onSwitched?.(job.projectId);
    // Images that arrived while the first pass ran were embedded with the old model: catch them up.
    const have = new Set((await new EmbeddingReader(stores.blobs, job.projectId, model.name).load()).sampleIds);
    const late = (await readyImages(stores, job.projectId)).map((i) => i.imageId).filter((id) => !have.has(id));
    if (late.length) {
      job.total += late.length;
      await pass(late, true);
      deps.onSwitched?.(job.projectId);
    }
    // The old embeddings go last: every other model's shards of this project.
    const keep = embeddingsPrefix(job.projectId, model.name);
    const old = (await listShards(stores.blobs, `embeddings/${job.projectId}/`)).map((o) => o.key).filter((k) => !k.startsWith(keep));
    if (old.length) await stores.blobs.deleteMany(old);
    job.status = 'done';
    job.finishedAt = new Date(stores.clock.now()).toISOString();
    await progress(true);
    deps.log?.('re-embed finished', { projectId: job.projectId, model: model.name, images: job.done, skipped: job.skipped, oldShards: old.length });
  } catch (err) {
    job.status = 'failed';
    job.reason = (err as Error).message;
    job.finishedAt = new Date(stores.clock.now()).toISOString();
    await progress(true).catch(() => undefined);
    deps.log?.('re-embed failed', { projectId: job.projectId, model: model.name, error: job.reason });
  }
  return job;
}

async function switchProject(stores: Stores, projectId: string, model: string): Promise<Project> {
  for (let attempt = 0; ; attempt++) {
    const project = await stores.projects.get(projectId);
    if (!project) throw new Error(`project ${projectId} was deleted during the re-embedding`);
    try {
      return await stores.projects.update({ ...project, embedding: { model } }, project.version);
    } catch (err) {
      if (!(err instanceof ConditionFailed) || attempt > 5) throw err;
    }
  }
}
