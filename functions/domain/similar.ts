// Look-alikes of a sample (the gallery's "similar" route): its nearest neighbours by cosine similarity of the
// embeddings the trainer keeps. Up to EXACT_UP_TO samples every row is compared (exact). Above, an inverted-file index
// answers: the rows are split into lists by their nearest of ~sqrt(n)/2 centroids (spherical k-means on a sample of
// the rows), and a query compares only the rows of the lists whose centroids are closest to it, at least
// CANDIDATES rows, so its cost stays the same whatever the project's size. The index keeps the rows again in list order
// as int8 (n x dim bytes: 128 MB for 1M x 128), so that each list is one contiguous run for the dot-product kernel
// (rows picked from all over the fp32 matrix were ~5x slower per row); the best few are scored again in fp32. The index is built in the background after
// a retrain whose embeddings changed (yielding between blocks, so look-ups go on meanwhile); until it is ready, and
// whenever `exact` is asked for, every row is compared. Recall@24 against the exact answer is bench:scale's figure.

import { createI8Embeddings, dotAll, type Embeddings, type I8Embeddings, setRowI8 } from './learning/embeddings.js';
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
  /** The rows again in that order, as int8: a list is one contiguous run for the dot-product kernel (n x dim bytes). */
  ordered: I8Embeddings;
  buildMs: number;
}

/** Where a project's index stands (kept in ProjectTrainingState by the trainer process). */
export interface SimilarIndexState {
  index?: SimilarIndex;
  building?: { matrix: EmbeddingMatrix; done: Promise<SimilarIndex> };
}

/** Look-alikes cannot be searched here (the reason says why and what would change it); the route answers it as such. */
export class SimilarUnavailable extends Error {}

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
  const ordered = createI8Embeddings(e.rows, e.dim);
  const row = new Float32Array(e.dim);
  for (let m = 0; m < e.rows; m++) {
    setRowI8(ordered, m, rowOf(e, members[m], row));
    if (m % (BLOCK * 16) === BLOCK * 16 - 1) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { matrix, lists: k, dim: e.dim, centroids: clustering.centroids, start, members, ordered, buildMs: performance.now() - t0 };
}

/**
 * The k rows most similar to `row` among the rows of the lists closest to it (at least CANDIDATES rows): scored on the
 * int8 copy list by list (contiguous), the best 4k of them scored again on the fp32 rows, so the similarities given are
 * the exact ones.
 */
export function searchIndex(e: Embeddings, index: SimilarIndex, row: number, k: number): { row: number; similarity: number }[] {
  const { dim } = e;
  const q = rowOf(e, row, new Float32Array(dim));
  const toCentroid = dotAll({ kind: 'f32', rows: index.lists, dim, data: index.centroids }, q, 1, new Float32Array(index.lists));
  const want = Math.max(CANDIDATES, k + 1);
  const probed: number[] = [];
  let count = 0;
  for (const j of topK(toCentroid, index.lists)) {
    probed.push(j);
    count += index.start[j + 1] - index.start[j];
    if (count >= want) break;
  }
  // Approximate scores by position in the ordered copy.
  const scores = new Float32Array(count);
  const positions = new Int32Array(count);
  let at = 0;
  for (const j of probed) {
    const [from, to] = [index.start[j], index.start[j + 1]];
    if (to === from) continue;
    dotAll(index.ordered, q, 1, scores.subarray(at, at + to - from), from, to);
    for (let m = from; m < to; m++) positions[at++] = m;
  }
  for (let c = 0; c < count; c++) if (index.members[positions[c]] === row) scores[c] = NaN;
  const shortlist = topK(scores, Math.min(count, Math.max(4 * k, 100)));
  // The same kernel as the exact pass, on those rows gathered: the same similarities it gives.
  const rows = Int32Array.from(shortlist, (c) => index.members[positions[c]]);
  const gathered = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => rowOf(e, r, gathered.subarray(i * dim, (i + 1) * dim)));
  const exact = dotAll({ kind: 'f32', rows: rows.length, dim, data: gathered }, q, 1, new Float32Array(rows.length));
  return Array.from(topK(exact, k), (i) => ({ row: rows[i], similarity: exact[i] }));
}

function rowOf(e: Embeddings, row: number, out: Float32Array): Float32Array {
  if (e.kind === 'f32') {
    out.set(e.data.subarray(row * e.dim, (row + 1) * e.dim));
    return out;
  }
  const s = e.scales[row];
  for (let d = 0; d < e.dim; d++) out[d] = e.data[row * e.dim + d] * s;
  return out;
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
