// Look-alikes of a sample (the gallery's "similar" route): its nearest neighbours by cosine similarity of the
// embeddings the trainer keeps. Up to EXACT_UP_TO samples every row is compared (exact). Above, an inverted-file index
// answers: the rows are split into lists by their nearest of ~sqrt(n)/2 centroids (spherical k-means on a sample of
// the rows), and a query compares only the rows of the lists whose centroids are closest to it, at least
// CANDIDATES rows, so its cost stays the same whatever the project's size. The index is built in the background after
// a retrain whose embeddings changed (yielding between blocks, so look-ups go on meanwhile); until it is ready, and
// whenever `exact` is asked for, every row is compared. Recall@24 against the exact answer is bench:scale's figure.

import { dotAll, type Embeddings } from './learning/embeddings.js';
import { kmeans } from './learning/kmeans.js';
import { nearestNeighbours } from './learning/review.js';
import { topK } from './learning/select.js';
import type { EmbeddingMatrix, EmbeddingStore } from './ports.js';
import { loadEmbeddings, type ProjectTrainingState } from './retrain.js';

/** Projects up to this many samples are searched exactly (one pass over 50k x 1280 is ~60 ms here). */
export const EXACT_UP_TO = 50_000;
/** Rows compared per query at least (the lists closest to the query until this many): fewer than an exact pass over a
 * 10k project compares, so a look-up at any size costs about what it costs there. */
export const CANDIDATES = 8192;
/** Rows assigned to lists between yields to the event loop while building. */
const BLOCK = 4096;

export interface SimilarIndex {
  /** The matrix it was built for (a new one, after new embeddings or a compaction, needs a new index). */
  matrix: EmbeddingMatrix;
  lists: number;
  dim: number;
  /** lists x dim, unit rows. */
  centroids: Float32Array;
  /** Rows grouped by list: the rows of list j are members[start[j] .. start[j + 1]). */
  start: Int32Array;
  members: Int32Array;
  buildMs: number;
}

/** Where a project's index stands (kept in ProjectTrainingState by the trainer process). */
export interface SimilarIndexState {
  index?: SimilarIndex;
  building?: { matrix: EmbeddingMatrix; done: Promise<SimilarIndex> };
}

export interface Neighbour {
  sampleId: string;
  similarity: number;
}

export interface SimilarOptions {
  /** Compare every row whatever the size (the bench's reference for recall). */
  exact?: boolean;
  /** Wait for the index of the current embeddings (built now if need be) instead of answering exactly meanwhile. */
  waitForIndex?: boolean;
}

/** Look-alikes of a sample, most similar first (empty when the sample has no embedding). */
export async function similarSamples(
  embeddingStore: EmbeddingStore,
  projectId: string,
  state: ProjectTrainingState,
  embedder: string,
  sampleId: string,
  k: number,
  opts: SimilarOptions = {},
): Promise<Neighbour[]> {
  // The embeddings of the last retrain (every retrain, ingest's included, refreshes them) when they hold the sample:
  // a look-up then lists no shards. A sample they lack (ingested since) has the store read for new shards.
  const current = state.reader?.model === embedder && state.matrix && state.rowOf?.has(sampleId);
  const matrix = current ? state.matrix! : await loadEmbeddings(embeddingStore, projectId, state, embedder);
  const row = state.rowOf!.get(sampleId);
  if (row === undefined) return [];
  const e = state.embeddings!;
  let index: SimilarIndex | undefined;
  if (!opts.exact && matrix.rows > EXACT_UP_TO) {
    const pending = similarIndexFor(state);
    index = opts.waitForIndex ? await pending : state.similar?.index?.matrix === matrix ? state.similar.index : undefined;
  }
  const found = index ? searchIndex(e, index, row, k) : nearestNeighbours(e, row, k);
  return found.map((n) => ({ sampleId: matrix.sampleIds[n.row], similarity: round(n.similarity) }));
}

/**
 * The index of the project's current embeddings: the built one, the one being built, or a build started now (and
 * undefined for projects searched exactly). Call after a retrain so that the index is ready before it is asked for.
 */
export function similarIndexFor(state: ProjectTrainingState): Promise<SimilarIndex> | undefined {
  const matrix = state.matrix;
  const e = state.embeddings;
  if (!matrix || !e || matrix.rows <= EXACT_UP_TO) return undefined;
  const s = (state.similar ??= {});
  if (s.index?.matrix === matrix) return Promise.resolve(s.index);
  if (s.building?.matrix === matrix) return s.building.done;
  const done = buildSimilarIndex(e, matrix).then((index) => {
    // A newer build (the embeddings changed meanwhile) wins.
    if (state.similar?.building?.done === done) {
      state.similar.index = index;
      state.similar.building = undefined;
    }
    return index;
  });
  s.building = { matrix, done };
  done.catch(() => {
    if (state.similar?.building?.done === done) state.similar.building = undefined;
  });
  return done;
}

/** Lists for n rows: ~sqrt(n)/2, so a list holds ~2 sqrt(n) rows and the centroids are few to compare. */
export function listCount(rows: number): number {
  return Math.max(16, Math.min(1024, Math.round(Math.sqrt(rows) / 2)));
}

export async function buildSimilarIndex(e: Embeddings, matrix: EmbeddingMatrix): Promise<SimilarIndex> {
  const t0 = performance.now();
  const lists = listCount(e.rows);
  const clustering = kmeans(e, { k: lists, seed: 0, iterations: 6, sampleSize: Math.min(e.rows, lists * 32) });
  const k = clustering.k;
  const assignment = new Int32Array(e.rows);
  const sims = new Float32Array(BLOCK * k);
  for (let s = 0; s < e.rows; s += BLOCK) {
    const end = Math.min(e.rows, s + BLOCK);
    dotAll(e, clustering.centroids, k, sims, s, end);
    for (let i = 0; i < end - s; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (sims[i * k + j] > sims[i * k + best]) best = j;
      assignment[s + i] = best;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const start = new Int32Array(k + 1);
  for (let r = 0; r < e.rows; r++) start[assignment[r] + 1]++;
  for (let j = 0; j < k; j++) start[j + 1] += start[j];
  const fill = start.slice(0, k);
  const members = new Int32Array(e.rows);
  for (let r = 0; r < e.rows; r++) members[fill[assignment[r]]++] = r;
  return { matrix, lists: k, dim: e.dim, centroids: clustering.centroids, start, members, buildMs: performance.now() - t0 };
}

/** The k rows most similar to `row` among the rows of the lists closest to it (at least CANDIDATES rows). */
export function searchIndex(e: Embeddings, index: SimilarIndex, row: number, k: number): { row: number; similarity: number }[] {
  if (e.kind !== 'f32') return nearestNeighbours(e, row, k);
  const { dim } = e;
  const q = e.data.slice(row * dim, (row + 1) * dim);
  const toCentroid = dotAll({ kind: 'f32', rows: index.lists, dim, data: index.centroids }, q, 1, new Float32Array(index.lists));
  const want = Math.max(CANDIDATES, k + 1);
  const picked: Int32Array[] = [];
  let count = 0;
  for (const j of topK(toCentroid, index.lists)) {
    picked.push(index.members.subarray(index.start[j], index.start[j + 1]));
    count += index.start[j + 1] - index.start[j];
    if (count >= want) break;
  }
  const candidates = new Int32Array(count);
  let at = 0;
  for (const list of picked) {
    candidates.set(list, at);
    at += list.length;
  }
  // In row order: the reads then go one way through the matrix (about twice as fast as in list order here).
  candidates.sort();
  const scores = scoreRows(e.data, dim, q, candidates);
  const self = candidates.indexOf(row);
  if (self >= 0) scores[self] = NaN;
  return Array.from(topK(scores, k), (c) => ({ row: candidates[c], similarity: scores[c] }));
}

function scoreRows(data: Float32Array, dim: number, q: Float32Array, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length);
  for (let c = 0; c < rows.length; c++) {
    const o = rows[c] * dim;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let d = 0;
    for (; d + 3 < dim; d += 4) {
      s0 += data[o + d] * q[d];
      s1 += data[o + d + 1] * q[d + 1];
      s2 += data[o + d + 2] * q[d + 2];
      s3 += data[o + d + 3] * q[d + 3];
    }
    for (; d < dim; d++) s0 += data[o + d] * q[d];
    out[c] = s0 + s1 + s2 + s3;
  }
  return out;
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
