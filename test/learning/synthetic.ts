// Synthetic embeddings for the learning tests: Gaussian clusters around random unit directions.

import { embeddingsFromVectors, type F32Embeddings } from '../../functions/domain/learning/embeddings.js';
import { createRng } from '../../functions/domain/learning/random.js';
import type { TrainingLabel } from '../../functions/domain/learning/targets.js';

export interface Blobs {
  embeddings: F32Embeddings;
  labels: Int32Array;
  centers: Float32Array[];
}

/** `perClass` points around each of `classes` random unit centres, with per-coordinate noise `noise`. */
export function blobs(classes: number, perClass: number, dim: number, noise: number, seed = 1): Blobs {
  const rng = createRng(seed);
  const centers = Array.from({ length: classes }, () => unit(Float32Array.from({ length: dim }, () => rng.normal())));
  const vectors: Float32Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < classes * perClass; i++) {
    const c = i % classes;
    vectors.push(Float32Array.from(centers[c], (v) => v + noise * rng.normal()));
    labels.push(c);
  }
  return { embeddings: embeddingsFromVectors(vectors), labels: Int32Array.from(labels), centers };
}

export function unit(v: Float32Array): Float32Array {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

export const oneHot = (c: number, C: number) => Array.from({ length: C }, (_, j) => (j === c ? 1 : 0));

export function hardLabels(labels: ArrayLike<number>, rows: ArrayLike<number>, C: number): TrainingLabel[] {
  return Array.from(rows, (row) => ({ row, confidences: oneHot(labels[row], C) }));
}

export function argmax(p: ArrayLike<number>, offset = 0, C = p.length): number {
  let best = 0;
  for (let c = 1; c < C; c++) if (p[offset + c] > p[offset + best]) best = c;
  return best;
}
