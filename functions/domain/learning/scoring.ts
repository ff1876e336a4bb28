// Class probabilities for every sample: one SIMD product per block of rows, then a softmax per row.

import { dotAll, type Embeddings, type F32Embeddings, gatherRows } from './embeddings.js';
import type { SoftmaxModel } from './softmax.js';

const BLOCK = 1 << 16;

/** Probabilities (rows x classes, row-major) for rows [start, end) of the embedding matrix. */
export function scoreAll(model: SoftmaxModel, embeddings: Embeddings, start = 0, end = embeddings.rows): Float32Array {
  if (embeddings.dim !== model.dim) throw new Error(`model expects ${model.dim}-d embeddings, got ${embeddings.dim}-d`);
  const C = model.classes;
  const out = new Float32Array((end - start) * C);
  for (let s = start; s < end; s += BLOCK) {
    const e = Math.min(end, s + BLOCK);
    const block = out.subarray((s - start) * C, (e - start) * C);
    dotAll(embeddings, model.weights, C, block, s, e);
    softmaxRows(block, model.bias, C);
  }
  return out;
}

/** Probabilities for a few rows given by index (e.g. the samples being leased). */
export function scoreRows(model: SoftmaxModel, embeddings: Embeddings, rows: ArrayLike<number>): Float32Array {
  const picked: F32Embeddings = { kind: 'f32', rows: rows.length, dim: embeddings.dim, data: gatherRows(embeddings, rows) };
  return scoreAll(model, picked);
}

/** In place: logits + bias -> probabilities, row by row. */
export function softmaxRows(values: Float32Array, bias: Float32Array, C: number): void {
  for (let o = 0; o < values.length; o += C) {
    let max = -Infinity;
    for (let j = 0; j < C; j++) {
      const z = values[o + j] + bias[j];
      values[o + j] = z;
      if (z > max) max = z;
    }
    let sum = 0;
    for (let j = 0; j < C; j++) {
      const e = Math.exp(values[o + j] - max);
      values[o + j] = e;
      sum += e;
    }
    for (let j = 0; j < C; j++) values[o + j] /= sum;
  }
}
