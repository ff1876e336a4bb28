// Review helpers: labels the model contradicts (for data cleaning) and look-alikes of a sample (bulk labeling).

import { dotAll, type Embeddings, rowInto } from './embeddings.js';
import { topK } from './select.js';
import type { TrainingLabel } from './targets.js';
import { type CalibratedTraining, trainCalibrated } from './train.js';

export interface SuspectLabel {
  /** Position of the label in the input list. */
  label: number;
  row: number;
  /** The label's top class. */
  givenClass: number;
  /**
   * Probability the out-of-fold model gives the label's class around the sample: the mean over the sample and its
   * pool neighbours (calibration.ts `smoothOutOfFold`); low = suspicious.
   */
  givenProbability: number;
  /** The class the out-of-fold model believes instead (the most probable other class)... */
  predictedClass: number;
  predictedProbability: number;
  /** ...and that class's usual confidence: the mean probability of it over the labels given it (0 when none is). */
  predictedThreshold: number;
}

/**
 * A label is flagged when the out-of-fold model gives its class less than MAX_SUSPECT_PROBABILITY around the sample
 * (see SuspectLabel) and less than MAX_POINT_PROBABILITY at the sample itself: a label the neighbourhood contradicts
 * but its own point does not is most often a correct label on a class boundary.
 * Chosen on bench:al's default order (tf_flowers_dev, 100 / 200 / 400 labels, 10% flipped; per-label signals dumped
 * with WINNOW_BENCH_DUMP_MISLABEL=1) on seeds 0-9, then checked on seeds 10-19 (`--first-seed 10`). Over the 20
 * seeds, recall / correct labels flagged / a clean session's labels flagged, %:
 *   around the sample < 0.12 alone (before):   64.0 / 4.1 / 5.3,  57.8 / 4.0 / 4.4,  68.8 / 3.7 / 4.1
 *   < 0.14 around and < 0.20 at the point:     66.0 / 4.7 / 5.2,  60.5 / 4.4 / 4.5,  69.1 / 3.9 / 4.0
 * (the random order: 75.0 / 4.1 / 4.4, 78.0 / 2.7 / 3.1, 83.2 / 2.1 / 2.1 on seeds 0-9). The probability at the
 * point alone listed 9-10% of a clean session's labels at the same recall.
 */
export const MAX_SUSPECT_PROBABILITY = 0.14;

/** See MislabelOptions.maxPointProbability and MAX_SUSPECT_PROBABILITY. */
export const MAX_POINT_PROBABILITY = 0.2;

export interface MislabelOptions {
  /** Flag only labels whose class gets less than this (default MAX_SUSPECT_PROBABILITY). */
  maxGivenProbability?: number;
  /**
   * Also require the label's class under this at the sample's own point (the out-of-fold prediction before the
   * smoothing; default MAX_POINT_PROBABILITY, 1 = off). Only where the point-wise probabilities are given.
   */
  maxPointProbability?: number;
  /**
   * Also require another class to reach its own threshold (confident learning's per-class thresholds: the mean
   * probability of that class over the labels given it). Off by default: on the smoothed signal it lost recall
   * (bench:al at 200 labels, 8 seeds: 51% at 6.0% false flags, against 64% at 6.0% for the plain threshold).
   */
  perClassThresholds?: boolean;
}

/**
 * Labels whose given class gets less than `maxGivenProbability` (and, with `perClassThresholds`, whose predicted class
 * passes its confident-learning threshold, Northcutt et al., 2021). Flagged labels come back most suspicious first:
 * by p(given) ascending, then by p(predicted) descending. `probs` is labels x C (each row predicted by a model that
 * never saw that label); `given[i]` the top class.
 */
export function confidentLearningSuspects(
  probs: ArrayLike<number>,
  given: ArrayLike<number>,
  C: number,
  opts: MislabelOptions = {},
  /** The out-of-fold probabilities at each label's own point (labels x C), for `maxPointProbability`. */
  point?: ArrayLike<number>,
): { index: number; givenClass: number; givenProbability: number; predictedClass: number; predictedProbability: number; predictedThreshold: number }[] {
  const n = given.length;
  const maxGiven = opts.maxGivenProbability ?? MAX_SUSPECT_PROBABILITY;
  const maxPoint = point ? (opts.maxPointProbability ?? MAX_POINT_PROBABILITY) : 1;
  const sum = new Float64Array(C);
  const count = new Float64Array(C);
  for (let i = 0; i < n; i++) {
    sum[given[i]] += probs[i * C + given[i]];
    count[given[i]]++;
  }
  const threshold = Array.from(sum, (s, c) => (count[c] > 0 ? s / count[c] : Infinity));
  const out = [];
  for (let i = 0; i < n; i++) {
    const y = given[i];
    const py = probs[i * C + y];
    if (!(py < maxGiven)) continue;
    if (point && maxPoint < 1 && !(point[i * C + y] < maxPoint)) continue;
    if (opts.perClassThresholds && !(py < threshold[y])) continue;
    let j = -1;
    for (let c = 0; c < C; c++) {
      if (c === y || (opts.perClassThresholds && !(probs[i * C + c] >= threshold[c]))) continue;
      if (j < 0 || probs[i * C + c] > probs[i * C + j]) j = c;
    }
    if (j < 0) continue;
    const t = Number.isFinite(threshold[j]) ? threshold[j] : 0;
    out.push({ index: i, givenClass: y, givenProbability: py, predictedClass: j, predictedProbability: probs[i * C + j], predictedThreshold: t });
  }
  out.sort((a, b) => a.givenProbability - b.givenProbability || b.predictedProbability - a.predictedProbability || a.index - b.index);
  return out;
}

/**
 * Labels the model contradicts, most suspicious first (confidentLearningSuspects on the calibrated out-of-fold
 * probabilities of trainCalibrated smoothed over each sample's pool neighbours: each label judged by a model that
 * never saw it, so a flipped label cannot vouch for itself). Ambiguous labels and labels without confidence are never
 * flagged. Empty below 8 labels.
 */
export function likelyMislabeled(
  e: Embeddings,
  labels: readonly TrainingLabel[],
  opts: { classes: number; seed?: number; limit?: number } & MislabelOptions,
): SuspectLabel[] {
  const fit = trainCalibrated(e, labels, { classes: opts.classes, seed: opts.seed, calibration: { smoothOutOfFold: true } });
  if (!fit) return [];
  const out = suspectsFromOutOfFold(fit, labels, opts.classes, opts);
  return opts.limit === undefined ? out : out.slice(0, opts.limit);
}

/** The suspects of an already calibrated fit (the trainer reuses the fit it ranks with). */
export function suspectsFromOutOfFold(fit: CalibratedTraining, labels: readonly TrainingLabel[], C: number, opts: MislabelOptions = {}): SuspectLabel[] {
  const n = fit.labelIndex.length;
  const given = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const conf = labels[fit.labelIndex[k]].confidences;
    let top = 0;
    for (let c = 1; c < C; c++) if (conf[c] > conf[top]) top = c;
    given[k] = top;
  }
  const smoothed = fit.outOfFold.smoothed;
  return confidentLearningSuspects(smoothed ?? fit.outOfFold.probs, given, C, opts, smoothed ? fit.outOfFold.probs : undefined).map((s) => ({
    label: fit.labelIndex[s.index],
    row: labels[fit.labelIndex[s.index]].row,
    givenClass: s.givenClass,
    givenProbability: s.givenProbability,
    predictedClass: s.predictedClass,
    predictedProbability: s.predictedProbability,
    predictedThreshold: s.predictedThreshold,
  }));
}

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
