// Carrying auto-labeling's certified threshold from the fold models to the final model.
//
// pickThreshold (precision-bound.ts) certifies a threshold on out-of-fold predictions, each made by a fold model
// trained on (k-1)/k of the labels. The pool is then labeled by the final model, trained on all of them, whose
// confidences are on its own scale: surer than its fold models were, the same number admits more of the pool than
// the fold models would have, at a precision nobody tested. So the threshold is carried over as a coverage: the
// final model labels as much of the pool as the fold models would have labeled at the certified threshold (never
// with a lower threshold than that), its most confident share. The fold models' share is measured on a strided
// sample of the unlabeled pool, each sampled row predicted by one fold model in turn, as each held-out label was.
// A model trained on every label is at least as precise on its surest share of the pool as its fold models are on
// theirs, so the certified precision carries over; with the two on the same scale the threshold moves only up to the
// nearest sampled confidence.

import type { CalibratedFit } from './calibration.js';
import type { Embeddings } from './embeddings.js';
import { THRESHOLD_GRID } from './precision-bound.js';
import { scoreRows } from './scoring.js';

/** Unlabeled rows compared at most (strided over the pool). */
export const COVERAGE_SAMPLE = 4000;
/** Above any probability: where the fold models label none of the sample, the final model labels nothing. */
export const NOTHING = 1.000001;

/**
 * For each threshold of `grid` (default THRESHOLD_GRID, highest first), the final model's threshold that labels the
 * same share of the unlabeled pool as the fold models at that threshold, and never lower than it. `finalProbs`: the
 * final model's probabilities of every row (rows x classes), as the trainer already scored them; `labeled[r]` is 1 for
 * the rows that have a label (the rest is the pool).
 */
export function finalModelThresholds(
  fit: CalibratedFit,
  embeddings: Embeddings,
  finalProbs: Float32Array,
  labeled: Uint8Array,
  opts: { grid?: readonly number[]; sample?: number } = {},
): number[] {
  const grid = opts.grid ?? THRESHOLD_GRID;
  const C = fit.model.classes;
  const models = fit.foldModels.filter((m) => m !== undefined);
  let n = 0;
  for (let r = 0; r < labeled.length; r++) if (!labeled[r]) n++;
  const m = Math.min(n, opts.sample ?? COVERAGE_SAMPLE);
  if (models.length === 0 || m === 0) return [...grid];
  // Sample j is unlabeled row number floor(j n / m) in row order; it goes to fold model j mod folds.
  const byModel: number[][] = models.map(() => []);
  const finalTop = new Float64Array(m);
  for (let r = 0, u = 0, j = 0; r < labeled.length && j < m; r++) {
    if (labeled[r]) continue;
    if (u++ !== Math.floor((j * n) / m)) continue;
    byModel[j % models.length].push(r);
    finalTop[j++] = topProbability(finalProbs, r * C, C);
  }
  const foldTop: number[] = [];
  models.forEach((model, f) => {
    const probs = scoreRows(model, embeddings, byModel[f]);
    for (let i = 0; i < byModel[f].length; i++) foldTop.push(topProbability(probs, i * C, C));
  });
  const finalDescending = Array.from(finalTop).sort((a, b) => b - a);
  return grid.map((t) => {
    let share = 0;
    for (const p of foldTop) if (p >= t) share++;
    if (share === 0) return NOTHING;
    return Math.max(t, finalDescending[share - 1]);
  });
}

/** The final model's threshold for a certified one (`thresholds` from finalModelThresholds over `grid`). */
export function carriedThreshold(certified: number, thresholds: readonly number[] | undefined, grid: readonly number[] = THRESHOLD_GRID): number {
  const i = grid.indexOf(certified);
  return thresholds && i >= 0 && i < thresholds.length ? thresholds[i] : certified;
}

function topProbability(probs: ArrayLike<number>, offset: number, C: number): number {
  let top = probs[offset];
  for (let c = 1; c < C; c++) top = Math.max(top, probs[offset + c]);
  return top;
}
