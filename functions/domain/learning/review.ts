// Review helpers: labels the model contradicts (for data cleaning) and look-alikes of a sample (bulk labeling).

import { dotAll, type Embeddings, rowInto } from './embeddings.js';
import { stratifiedFolds, subsetTrainingSet } from './regularization.js';
import { scoreRows } from './scoring.js';
import { topK } from './select.js';
import { canTrain, fitSoftmax } from './softmax.js';
import { buildTrainingSet, type TrainingLabel } from './targets.js';
import { autoLambda } from './train.js';

export interface SuspectLabel {
  /** Position of the label in the input list. */
  label: number;
  row: number;
  /** The label's top class. */
  givenClass: number;
  /** Out-of-fold probability the model gives the label (expected over a soft label); low = suspicious. */
  givenProbability: number;
  /** What the out-of-fold model predicts instead. */
  predictedClass: number;
  predictedProbability: number;
}

/**
 * Labeled samples sorted by the out-of-fold probability of their own label, lowest first: each label is judged
 * by a model that never saw it (k-fold), so a flipped label cannot vouch for itself. Ambiguous labels are skipped.
 */
export function likelyMislabeled(
  e: Embeddings,
  labels: readonly TrainingLabel[],
  opts: { classes: number; folds?: number; seed?: number; limit?: number },
): SuspectLabel[] {
  const C = opts.classes;
  const positions = labels.map((_, i) => i).filter((i) => !labels[i].ambiguous);
  const kept = positions.map((i) => labels[i]);
  const set = buildTrainingSet(kept, C);
  if (set.rows.length !== kept.length) {
    // Drop labels without any confidence so positions and set rows stay aligned.
    return likelyMislabeled(e, labels.map((l) => (sumOf(l.confidences) > 0 ? l : { ...l, ambiguous: true })), opts);
  }
  const folds = Math.max(2, Math.min(opts.folds ?? 5, set.rows.length));
  const fold = stratifiedFolds(set, folds, opts.seed ?? 0);
  const out: SuspectLabel[] = [];
  for (let f = 0; f < folds; f++) {
    const trainIdx = [...fold.keys()].filter((i) => fold[i] !== f);
    const testIdx = [...fold.keys()].filter((i) => fold[i] === f);
    const train = subsetTrainingSet(set, trainIdx);
    if (testIdx.length === 0 || !canTrain(train)) continue;
    const model = fitSoftmax(e, train, { lambda: autoLambda(trainIdx.length) });
    const probs = scoreRows(model, e, testIdx.map((i) => set.rows[i]));
    testIdx.forEach((i, k) => {
      const p = probs.subarray(k * C, (k + 1) * C);
      let given = 0;
      let expected = 0;
      let predicted = 0;
      for (let c = 0; c < C; c++) {
        const t = set.targets[i * C + c];
        expected += t * p[c];
        if (t > set.targets[i * C + given]) given = c;
        if (p[c] > p[predicted]) predicted = c;
      }
      out.push({ label: positions[i], row: set.rows[i], givenClass: given, givenProbability: expected, predictedClass: predicted, predictedProbability: p[predicted] });
    });
  }
  out.sort((a, b) => a.givenProbability - b.givenProbability || a.label - b.label);
  return opts.limit === undefined ? out : out.slice(0, opts.limit);
}

const sumOf = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + Math.max(0, b), 0);

export interface Neighbour {
  row: number;
  /** Cosine similarity (rows are unit length). */
  similarity: number;
}

/** The k rows most similar to `query` (a row index, or a vector), excluding the query row itself and `exclude`. */
export function nearestNeighbours(
  e: Embeddings,
  query: number | ArrayLike<number>,
  k: number,
  opts: { exclude?: ArrayLike<number> } = {},
): Neighbour[] {
  const q = new Float32Array(e.dim);
  if (typeof query === 'number') rowInto(e, query, q);
  else {
    if (query.length !== e.dim) throw new Error(`query has ${query.length} values, expected ${e.dim}`);
    let s = 0;
    for (let d = 0; d < e.dim; d++) s += query[d] * query[d];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let d = 0; d < e.dim; d++) q[d] = query[d] * inv;
  }
  const sims = dotAll(e, q, 1, new Float32Array(e.rows));
  if (typeof query === 'number') sims[query] = NaN;
  for (const r of Array.from(opts.exclude ?? [])) sims[r] = NaN;
  return Array.from(topK(sims, k), (row) => ({ row, similarity: sims[row] }));
}
