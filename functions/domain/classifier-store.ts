// The classifier a project's ranking was made with, kept in the bucket beside it: the trainer saves it right after it
// stores the ranking (domain/retrain.ts), and the classifier export (functions/export/model-classifier.ts) loads it
// when its generation is the current ranking's, so the exported file is the model whose probabilities the labeling
// view shows (the trainer warm-starts every fit from the last one, so a re-fit lands up to ~0.025 apart).
//
// One JSON object, ~35 KB for 5 classes x 1280 dims: weights and bias as base64 of little-endian float32 (exact), the
// rest as the model has it (the centring and temperature are already folded into weights and bias).

import type { SoftmaxModel } from './learning/index.js';
import type { BlobStore } from './ports.js';

export const CLASSIFIERS_PREFIX = 'classifiers/';
/** Everything of one project under this folder (deletion.ts removes it with the project). */
export const classifierPrefix = (projectId: string) => `${CLASSIFIERS_PREFIX}${projectId}/`;
export const classifierKey = (projectId: string) => `${classifierPrefix(projectId)}live.json`;

const FORMAT = 'winnow-live-classifier/1';

export interface LiveClassifier {
  projectId: string;
  /** The ranking generation this model scored (RankedQueue.generation). */
  generation: number;
  /** Embedding model whose L2-normalised vectors the model reads. */
  embedder: string;
  createdAt: string;
  /** Human labels it was fitted on (ambiguous ones excluded), as the ranking counts them. */
  labels: number;
  /** Rows of the embedding matrix at the time (samples with an embedding). */
  samples: number;
  model: SoftmaxModel;
}

interface StoredClassifier extends Omit<LiveClassifier, 'model'> {
  format: typeof FORMAT;
  model: Omit<SoftmaxModel, 'weights' | 'bias' | 'present'> & { weights: string; bias: string; present: number[] };
}

const f32ToBase64 = (values: Float32Array) => {
  const copy = new Float32Array(values); // own, aligned buffer (the model's may be a view)
  return Buffer.from(copy.buffer, 0, copy.byteLength).toString('base64');
};

function base64ToF32(text: string, length: number, what: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength !== length * 4) throw new Error(`${what} has ${bytes.byteLength / 4} values, expected ${length}`);
  const out = new Float32Array(length);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export async function saveLiveClassifier(blobs: BlobStore, live: LiveClassifier): Promise<void> {
  const { model } = live;
  const stored: StoredClassifier = {
    format: FORMAT,
    ...live,
    model: { ...model, weights: f32ToBase64(model.weights), bias: f32ToBase64(model.bias), present: Array.from(model.present) },
  };
  await blobs.put(classifierKey(live.projectId), new TextEncoder().encode(JSON.stringify(stored)), 'application/json');
}

export type LoadedClassifier = { found: true; classifier: LiveClassifier } | { found: false; reason: string };

/** The saved classifier, or why there is none usable (absent, unreadable); never throws for a bad object. */
export async function loadLiveClassifier(blobs: BlobStore, projectId: string): Promise<LoadedClassifier> {
  const object = await blobs.get(classifierKey(projectId));
  if (!object) return { found: false, reason: 'the trainer has saved no model for this project yet' };
  try {
    const stored = JSON.parse(new TextDecoder().decode(object.body)) as StoredClassifier;
    if (stored.format !== FORMAT) throw new Error(`unknown format ${JSON.stringify(stored.format)}`);
    const m = stored.model;
    if (!(Number.isInteger(m.classes) && m.classes > 0 && Number.isInteger(m.dim) && m.dim > 0)) throw new Error('bad classes or dim');
    if (!Array.isArray(m.present) || m.present.length !== m.classes) throw new Error('bad class list');
    const model: SoftmaxModel = {
      ...m,
      weights: base64ToF32(m.weights, m.classes * m.dim, 'weights'),
      bias: base64ToF32(m.bias, m.classes, 'bias'),
      present: Uint8Array.from(m.present),
    };
    const { format: _format, ...rest } = stored;
    return { found: true, classifier: { ...rest, model } };
  } catch (err) {
    return { found: false, reason: `the saved model is unreadable (${err instanceof Error ? err.message : String(err)})` };
  }
}
