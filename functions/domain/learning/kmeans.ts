// Spherical k-means (cosine on unit rows) with k-means++ seeding, on a seeded sample of at most `sampleSize` rows:
// the map of the pool that cold start and the diversity-aware strategies walk over. Cache it per project: it only
// depends on the embeddings.

import { dotAll, type Embeddings, type F32Embeddings, gatherRows, normalizeRows } from './embeddings.js';
import { createRng, shuffle, type Rng } from './random.js';

export interface Clustering {
  k: number;
  dim: number;
  /** k x dim, unit rows. */
  centroids: Float32Array;
  /** Rows of the embedding matrix that were clustered (a sample of the pool), ascending. */
  rows: Int32Array;
  /** Cluster of each clustered row. */
  assignment: Int32Array;
  /** Cosine of each clustered row to its centroid (typicality: higher = more central). */
  similarity: Float32Array;
  sizes: Int32Array;
}

export interface KMeansOptions {
  k: number;
  seed?: number;
  iterations?: number;
  /** Cluster a seeded sample of at most this many rows (default 10000). */
  sampleSize?: number;
}

export function kmeans(e: Embeddings, opts: KMeansOptions): Clustering {
  const rng = createRng(opts.seed ?? 0);
  const rows = sampleRows(e.rows, opts.sampleSize ?? 10000, rng);
  const m = rows.length;
  const k = Math.max(1, Math.min(opts.k, m));
  const x: F32Embeddings = { kind: 'f32', rows: m, dim: e.dim, data: gatherRows(e, rows) };
  const centroids = seedPlusPlus(x, k, rng);
  const assignment = new Int32Array(m);
  const similarity = new Float32Array(m);
  const sims = new Float32Array(m * k);
  for (let it = 0; it < (opts.iterations ?? 10); it++) {
    dotAll(x, centroids, k, sims);
    let changed = 0;
    for (let i = 0; i < m; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (sims[i * k + j] > sims[i * k + best]) best = j;
      if (best !== assignment[i] || it === 0) changed++;
      assignment[i] = best;
      similarity[i] = sims[i * k + best];
    }
    if (changed === 0) break;
    updateCentroids(x, assignment, k, centroids);
  }
  const sizes = new Int32Array(k);
  for (let i = 0; i < m; i++) sizes[assignment[i]]++;
  return { k, dim: e.dim, centroids, rows, assignment, similarity, sizes };
}

/** Cluster of each given row (nearest centroid by cosine). */
export function assignRows(e: Embeddings, clustering: Clustering, rows: ArrayLike<number>): Int32Array {
  const { k } = clustering;
  const out = new Int32Array(rows.length);
  const block = 4096;
  const sims = new Float32Array(block * k);
  for (let s = 0; s < rows.length; s += block) {
    const part = Array.prototype.slice.call(rows, s, Math.min(rows.length, s + block)) as number[];
    const x: F32Embeddings = { kind: 'f32', rows: part.length, dim: e.dim, data: gatherRows(e, part) };
    dotAll(x, clustering.centroids, k, sims);
    for (let i = 0; i < part.length; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (sims[i * k + j] > sims[i * k + best]) best = j;
      out[s + i] = best;
    }
  }
  return out;
}

function sampleRows(n: number, size: number, rng: Rng): Int32Array {
  if (n <= size) return Int32Array.from({ length: n }, (_, i) => i);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  return shuffle(all, rng).slice(0, size).sort();
}

/** k-means++: each next seed drawn with probability proportional to its squared distance to the nearest seed. */
function seedPlusPlus(x: F32Embeddings, k: number, rng: Rng): Float32Array {
  const { rows: m, dim } = x;
  const centroids = new Float32Array(k * dim);
  const d2 = new Float64Array(m).fill(Infinity);
  const sims = new Float32Array(m);
  let pick = rng.int(m);
  for (let j = 0; j < k; j++) {
    const c = x.data.subarray(pick * dim, (pick + 1) * dim);
    centroids.set(c, j * dim);
    dotAll(x, c, 1, sims);
    let total = 0;
    for (let i = 0; i < m; i++) {
      d2[i] = Math.min(d2[i], Math.max(0, 2 - 2 * sims[i]));
      total += d2[i];
    }
    if (total <= 0) {
      pick = rng.int(m);
      continue;
    }
    let r = rng.next() * total;
    pick = m - 1;
    for (let i = 0; i < m; i++) {
      r -= d2[i];
      if (r <= 0) {
        pick = i;
        break;
      }
    }
  }
  return centroids;
}

function updateCentroids(x: F32Embeddings, assignment: Int32Array, k: number, centroids: Float32Array): void {
  const { rows: m, dim } = x;
  const sums = new Float32Array(k * dim);
  const counts = new Int32Array(k);
  for (let i = 0; i < m; i++) {
    const j = assignment[i];
    counts[j]++;
    const o = i * dim;
    const c = j * dim;
    for (let d = 0; d < dim; d++) sums[c + d] += x.data[o + d];
  }
  normalizeRows(sums, dim);
  for (let j = 0; j < k; j++) {
    // An emptied cluster keeps its old centroid rather than collapsing to zero.
    if (counts[j] > 0) centroids.set(sums.subarray(j * dim, (j + 1) * dim), j * dim);
  }
}
