// Nearest neighbours of labeled rows in the pool (cosine on the stored unit rows), for the mislabel finder's
// neighbourhood signal (calibration.ts `smoothOutOfFold`). Exact over pools up to NEIGHBOUR_SAMPLE rows; above that,
// among NEIGHBOUR_SAMPLE rows in evenly spaced contiguous blocks (a sample, so the cost of a labeled row's search
// does not grow with the pool). Results are cached per matrix object and row: a retrain on the same matrix only
// searches for rows labeled since the last one.

import { dotAll, type Embeddings, gatherRows } from './embeddings.js';
import { topK } from './select.js';

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
  // Position p of a query's scores is row rowAt[p] (ascending, so topK's ties go to the lower row).
  const rowAt = Int32Array.from(blocks.flatMap(([s, t]) => Array.from({ length: t - s }, (_, i) => s + i)));
  const out = new Float32Array(Math.max(...blocks.map(([s, t]) => t - s)) * QUERY_CHUNK);
  for (let q0 = 0; q0 < missing.length; q0 += QUERY_CHUNK) {
    const queries = missing.slice(q0, q0 + QUERY_CHUNK);
    const Q = queries.length;
    const w = gatherRows(e, queries);
    const scores = Array.from({ length: Q }, () => new Float32Array(rowAt.length));
    let base = 0;
    for (const [start, end] of blocks) {
      dotAll(e, w, Q, out, start, end);
      for (let i = 0; i < end - start; i++) for (let j = 0; j < Q; j++) scores[j][base + i] = out[i * Q + j];
      base += end - start;
    }
    // One more than k, then the row itself left out.
    queries.forEach((r, j) => known.set(r, Int32Array.from(topK(scores[j], k + 1), (p) => rowAt[p]).filter((x) => x !== r).subarray(0, k)));
  }
  return Array.from(rows, (r) => known.get(r)!);
}
