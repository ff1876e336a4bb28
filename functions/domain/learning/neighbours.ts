// Nearest neighbours of labeled rows in the pool (cosine on the stored unit rows), for the mislabel finder's
// neighbourhood signal (calibration.ts `smoothOutOfFold`). Exact over pools up to NEIGHBOUR_SAMPLE rows; above that,
// among NEIGHBOUR_SAMPLE rows in evenly spaced contiguous blocks (a sample, so the cost of a labeled row's search
// does not grow with the pool). Results are cached per matrix object and row: a retrain on the same matrix only
// searches for rows labeled since the last one.

import { dotAll, type Embeddings, gatherRows } from './embeddings.js';

/** Neighbours per labeled row. */
export const NEIGHBOURS = 10;
/** Rows searched at most per labeled row (the whole pool below this). */
export const NEIGHBOUR_SAMPLE = 8192;
const BLOCKS = 16;
/** Labeled rows searched per pass over the sample. */
const QUERY_CHUNK = 32;

const cache = new WeakMap<Embeddings, { k: number; sample: number; rows: Map<number, Int32Array> }>();

/** The row ranges searched: the whole pool, or BLOCKS evenly spaced blocks totalling `sample` rows. */
export function neighbourBlocks(rows: number, sample = NEIGHBOUR_SAMPLE): [number, number][] {
  if (rows <= sample) return [[0, rows]];
  const size = Math.floor(sample / BLOCKS);
  const stride = Math.floor(rows / BLOCKS);
  return Array.from({ length: BLOCKS }, (_, b) => [b * stride, b * stride + size] as [number, number]);
}

/**
 * The `k` rows most similar to each of `rows` (most similar first, the row itself excluded), searched among
 * `neighbourBlocks(e.rows, sample)`.
 */
export function poolNeighbours(e: Embeddings, rows: ArrayLike<number>, opts: { k?: number; sample?: number } = {}): Int32Array[] {
  const k = opts.k ?? NEIGHBOURS;
  const sample = opts.sample ?? NEIGHBOUR_SAMPLE;
  let entry = cache.get(e);
  if (!entry || entry.k !== k || entry.sample !== sample) {
    entry = { k, sample, rows: new Map() };
    cache.set(e, entry);
  }
  const known = entry.rows;
  const missing = [...new Set(Array.from(rows))].filter((r) => !known.has(r));
  const blocks = neighbourBlocks(e.rows, sample);
  const longest = Math.max(...blocks.map(([s, t]) => t - s));
  const out = new Float32Array(longest * QUERY_CHUNK);
  for (let q0 = 0; q0 < missing.length; q0 += QUERY_CHUNK) {
    const queries = missing.slice(q0, q0 + QUERY_CHUNK);
    const Q = queries.length;
    const w = gatherRows(e, queries);
    // Per query: the best k so far, similarity descending.
    const bestRow = Array.from({ length: Q }, () => new Int32Array(k).fill(-1));
    const bestSim = Array.from({ length: Q }, () => new Float64Array(k).fill(-Infinity));
    for (const [start, end] of blocks) {
      dotAll(e, w, Q, out, start, end);
      for (let i = start; i < end; i++) {
        const o = (i - start) * Q;
        for (let j = 0; j < Q; j++) {
          const s = out[o + j];
          const sims = bestSim[j];
          if (!(s > sims[k - 1]) || i === queries[j]) continue;
          let p = k - 1;
          while (p > 0 && sims[p - 1] < s) {
            sims[p] = sims[p - 1];
            bestRow[j][p] = bestRow[j][p - 1];
            p--;
          }
          sims[p] = s;
          bestRow[j][p] = i;
        }
      }
    }
    queries.forEach((r, j) => known.set(r, bestRow[j].filter((x) => x >= 0)));
  }
  return Array.from(rows, (r) => known.get(r)!);
}
