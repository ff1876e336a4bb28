// The embedding matrix the learner reads: L2-normalised rows, either fp32 or compact int8 with a per-row scale
// (1M x 1280 is 5 GB as fp32 but 1.3 GB as int8; the accuracy cost is measured by `npm run bench:rank`).

import { dotRowsF32, dotRowsI8 } from './wasm/kernels.js';

export interface F32Embeddings {
  kind: 'f32';
  rows: number;
  dim: number;
  /** Row-major, rows * dim. */
  data: Float32Array;
}

export interface I8Embeddings {
  kind: 'i8';
  rows: number;
  dim: number;
  /** Row-major, rows * dim; value = data * scales[row]. */
  data: Int8Array;
  scales: Float32Array;
}

export type Embeddings = F32Embeddings | I8Embeddings;

/** Scales each row to unit length in place (zero rows stay zero). */
export function normalizeRows(data: Float32Array, dim: number): Float32Array {
  for (let o = 0; o < data.length; o += dim) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += data[o + d] * data[o + d];
    if (s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let d = 0; d < dim; d++) data[o + d] *= inv;
    }
  }
  return data;
}

/** Copies and L2-normalises the vectors into one fp32 matrix. */
export function embeddingsFromVectors(vectors: ArrayLike<number>[], dim = vectors[0]?.length ?? 0): F32Embeddings {
  const data = new Float32Array(vectors.length * dim);
  vectors.forEach((v, i) => {
    if (v.length !== dim) throw new Error(`embedding ${i} has ${v.length} values, expected ${dim}`);
    data.set(v, i * dim);
  });
  return { kind: 'f32', rows: vectors.length, dim, data: normalizeRows(data, dim) };
}

/** An empty int8 matrix to fill row by row with `setRowI8` (no fp32 copy of the whole matrix is ever held). */
export function createI8Embeddings(rows: number, dim: number): I8Embeddings {
  return { kind: 'i8', rows, dim, data: new Int8Array(rows * dim), scales: new Float32Array(rows) };
}

/** Normalises `vector` and stores it in row `row` as int8 with a per-row scale. */
export function setRowI8(e: I8Embeddings, row: number, vector: ArrayLike<number>): void {
  const { dim } = e;
  let ss = 0;
  let max = 0;
  for (let d = 0; d < dim; d++) {
    ss += vector[d] * vector[d];
    max = Math.max(max, Math.abs(vector[d]));
  }
  const norm = Math.sqrt(ss);
  const o = row * dim;
  if (norm === 0) {
    e.scales[row] = 0;
    e.data.fill(0, o, o + dim);
    return;
  }
  const scale = max / norm / 127;
  const inv = 1 / (norm * scale);
  for (let d = 0; d < dim; d++) e.data[o + d] = Math.round(vector[d] * inv);
  e.scales[row] = scale;
}

export function quantizeEmbeddings(e: Embeddings): I8Embeddings {
  if (e.kind === 'i8') return e;
  const q = createI8Embeddings(e.rows, e.dim);
  for (let i = 0; i < e.rows; i++) setRowI8(q, i, e.data.subarray(i * e.dim, (i + 1) * e.dim));
  return q;
}

const HALF = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    t[h] = exp === 0 ? sign * frac * 2 ** -24 : exp === 31 ? (frac ? NaN : sign * Infinity) : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return t;
})();

/** Decodes IEEE half floats (e.g. fp16 embedding shards) to fp32. */
export function float16ToFloat32(half: Uint16Array): Float32Array {
  const out = new Float32Array(half.length);
  for (let i = 0; i < half.length; i++) out[i] = HALF[half[i]];
  return out;
}

/** Reads row `i` as fp32 into `out` (dim values). */
export function rowInto(e: Embeddings, i: number, out: Float32Array): Float32Array {
  const o = i * e.dim;
  if (e.kind === 'f32') {
    out.set(e.data.subarray(o, o + e.dim));
  } else {
    const s = e.scales[i];
    for (let d = 0; d < e.dim; d++) out[d] = e.data[o + d] * s;
  }
  return out;
}

/** The given rows as one fp32 matrix (the labeled set handed to the trainer). */
export function gatherRows(e: Embeddings, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * e.dim);
  for (let k = 0; k < indices.length; k++) rowInto(e, indices[k], out.subarray(k * e.dim, (k + 1) * e.dim));
  return out;
}

/**
 * out[(i - start) * k + j] = row_i . w_j for rows [start, end): the one product behind scoring, k-means and kNN.
 * For int8 rows the weights are quantised per vector to int16 (relative error ~1e-4, far below the int8 rows').
 */
export function dotAll(e: Embeddings, w: Float32Array, k: number, out: Float32Array, start = 0, end = e.rows): Float32Array {
  const { dim } = e;
  if (e.kind === 'f32') {
    dotRowsF32(e.data.subarray(start * dim, end * dim), end - start, dim, w, k, out);
    return out;
  }
  const w16 = new Int16Array(k * dim);
  const wScale = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    let max = 0;
    for (let d = 0; d < dim; d++) max = Math.max(max, Math.abs(w[j * dim + d]));
    wScale[j] = max / 8191;
    const inv = max > 0 ? 8191 / max : 0;
    for (let d = 0; d < dim; d++) w16[j * dim + d] = Math.round(w[j * dim + d] * inv);
  }
  const block = 65536;
  const ints = new Int32Array(Math.min(block, end - start) * k);
  for (let s = start; s < end; s += block) {
    const e2 = Math.min(end, s + block);
    dotRowsI8(e.data, dim, s, e2, w16, k, ints);
    for (let i = s; i < e2; i++) {
      const rs = e.scales[i];
      const o = (i - start) * k;
      const io = (i - s) * k;
      for (let j = 0; j < k; j++) out[o + j] = ints[io + j] * rs * wScale[j];
    }
  }
  return out;
}
