// The project's classifier for export: the model the trainer ranked with, as it saved it beside the ranking
// (domain/classifier-store.ts), when that save is of the current ranking's generation. So the exported file gives the
// probabilities the labeling view shows (the trainer warm-starts each fit from the last one; a fit from scratch lands
// up to ~0.025 apart).
//
// Otherwise (nothing saved yet, a retrain between storing its ranking and its model, classes added since) it falls back
// to a re-fit by the trainer's own code (retrainProject) on the project's current embeddings and human labels, from a
// fresh state, on a view of the stores that keeps every write to itself: what a retrain from scratch on the same labels
// gives. Nothing the app stores is touched either way (no ranking, no auto-label basis, no shard compaction).

import { WinnowError } from '../domain/errors.js';
import type { Project } from '../domain/model.js';
import type { BlobStore, RankingStore, Stores } from '../domain/ports.js';
import type { SoftmaxModel } from '../domain/learning/index.js';
import { retrainProject, type ProjectTrainingState } from '../domain/retrain.js';
import { shardEmbeddings } from '../adapters/embeddings/store.js';
import { rankingRetrainPorts } from '../adapters/ranking-codec.js';
import { getProject } from '../domain/projects.js';
import { loadLiveClassifier, type LiveClassifier } from '../domain/classifier-store.js';

export interface ProjectClassifier {
  project: Project;
  /** Embedding model the classifier reads (the project's, as its ranking records it). */
  embedder: string;
  model: SoftmaxModel;
  /** Human labels it was trained on (ambiguous ones excluded). */
  labels: number;
  /** Rows of the embedding matrix (samples with an embedding). */
  samples: number;
  /** The trainer's saved model of the current ranking, or a re-fit and why. */
  origin: { source: 'trainer'; generation: number } | { source: 'refit'; reason: string };
}

/** Blob reads go through; writes and deletes are dropped (nothing of the dry run reaches the bucket). */
function readOnlyBlobs(blobs: BlobStore): BlobStore {
  return {
    put: async () => ({ etag: 'dry-run' }),
    get: (key) => blobs.get(key),
    head: (key) => blobs.head(key),
    delete: async () => undefined,
    deleteMany: async () => undefined,
    list: (prefix, opts) => blobs.list(prefix, opts),
    presignGet: () => Promise.reject(new Error('dry run: no URLs')),
    presignPut: () => Promise.reject(new Error('dry run: no URLs')),
  };
}

/** Methods of the table stores that only read. */
const READS = /^(get|list|head|queue|counts)/;

/**
 * The table stores for the dry run: reads go through, and any write fails the export instead of reaching the
 * tables (today's trainer writes only its ranking and blobs; a write added to it later is refused loudly here).
 */
function readOnly<T extends object>(store: T, name: string): T {
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      if (typeof prop === 'string' && READS.test(prop)) return value.bind(target);
      return () => Promise.reject(new Error(`classifier export: the trainer's dry run tried to write (${name}.${String(prop)})`));
    },
  });
}

/** Rankings are read; the one the dry run would write is dropped (the app's stays the trainer's). */
function readOnlyRankings(rankings: RankingStore): RankingStore {
  return { get: (projectId) => rankings.get(projectId), put: async () => undefined, delete: async () => undefined };
}

/**
 * Fits the project's classifier as the trainer does. Throws WinnowError('conflict') naming what is missing when
 * there is no model to export yet (no embeddings, fewer than two classes with labels).
 */
export async function projectClassifier(stores: Stores, projectId: string): Promise<ProjectClassifier> {
  const project = await getProject(stores, projectId);
  const ranking = await stores.rankings.get(projectId);
  const embedder = ranking?.model ?? project.embedding?.model;
  const noModel = (why: string) =>
    new WinnowError('conflict', `project "${projectId}" has no trained model to export yet: ${why}`, { field: 'model' });
  if (!ranking || ranking.coldStart || !embedder) {
    throw noModel('label images of at least two classes and let the trainer run (the labeling view then shows suggestions)');
  }
  const loaded = await loadLiveClassifier(stores.blobs, projectId);
  const unusable = loaded.found ? whyNotCurrent(loaded.classifier, ranking.generation, embedder, project.classes.length) : loaded.reason;
  if (loaded.found && unusable === undefined) {
    const live = loaded.classifier;
    return { project, embedder, model: live.model, labels: live.labels, samples: live.samples, origin: { source: 'trainer', generation: live.generation } };
  }
  const view: Stores = {
    projects: readOnly(stores.projects, 'projects'),
    samples: readOnly(stores.samples, 'samples'),
    annotations: readOnly(stores.annotations, 'annotations'),
    labelers: readOnly(stores.labelers, 'labelers'),
    blobs: readOnlyBlobs(stores.blobs),
    rankings: readOnlyRankings(stores.rankings),
    embeddings: shardEmbeddings(readOnlyBlobs(stores.blobs)),
    clock: stores.clock,
  };
  const state: ProjectTrainingState = {};
  const result = await retrainProject(view, rankingRetrainPorts, project, state, { embedder });
  if (!result || !state.model) throw noModel('fewer than two classes have labels on images with embeddings');
  return { project, embedder, model: state.model, labels: result.labels, samples: result.samples, origin: { source: 'refit', reason: unusable ?? 'unknown' } };
}

/** Why the saved model is not the one behind the current ranking; undefined when it is. */
function whyNotCurrent(live: LiveClassifier, generation: number, embedder: string, classes: number): string | undefined {
  if (live.generation !== generation) return `the saved model is of ranking generation ${live.generation}, the current ranking is generation ${generation}`;
  if (live.embedder !== embedder) return `the saved model reads "${live.embedder}" embeddings, the ranking "${embedder}"`;
  if (live.model.classes !== classes) return `the saved model has ${live.model.classes} classes, the project ${classes}`;
  return undefined;
}
