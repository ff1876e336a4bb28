// Choosing the L2 strength by k-fold cross-validation while labels are few (the fit is cheap then, and a fixed
// strength is either too loose for 10 labels or too tight for 1000).

import type { Embeddings } from './embeddings.js';
import { createRng, shuffle } from './random.js';
import { scoreRows } from './scoring.js';
import { canTrain, fitSoftmax, type SoftmaxModel } from './softmax.js';
import type { TrainingSet } from './targets.js';

/** Strengths tried, as multiples of 1 / labels (see `autoLambda`), strong to weak. */
export const LAMBDA_PER_LABEL_GRID: readonly number[] = [3, 1, 0.3, 0.1];

export interface CrossValidation {
  lambda: number;
  scores: { lambda: number; logLoss: number }[];
}

/** Restricts a training set to some of its rows (keeping the class weights of the whole set). */
export function subsetTrainingSet(set: TrainingSet, keep: ArrayLike<number>): TrainingSet {
  const C = set.classes;
  const targets = new Float64Array(keep.length * C);
  const classCounts = new Float64Array(C);
  const rows = new Int32Array(keep.length);
  const weights = new Float64Array(keep.length);
  for (let k = 0; k < keep.length; k++) {
    const i = keep[k];
    rows[k] = set.rows[i];
    weights[k] = set.weights[i];
    for (let c = 0; c < C; c++) {
      targets[k * C + c] = set.targets[i * C + c];
      classCounts[c] += set.targets[i * C + c];
    }
  }
  const audit = set.audit ? Uint8Array.from(keep as ArrayLike<number>, (i) => set.audit![i]) : undefined;
  return { ...set, rows, targets, weights, classCounts, audit };
}

/** Fold of each row: stratified by the row's top class, shuffled with the seed. */
export function stratifiedFolds(set: TrainingSet, folds: number, seed: number): Int32Array {
  const C = set.classes;
  const n = set.rows.length;
  const byClass: number[][] = Array.from({ length: C }, () => []);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (set.targets[i * C + c] > set.targets[i * C + best]) best = c;
    byClass[best].push(i);
  }
  const fold = new Int32Array(n);
  const rng = createRng(seed);
  let next = 0;
  for (const members of byClass) {
    shuffle(members, rng);
    for (const i of members) fold[i] = next++ % folds;
  }
  return fold;
}

export function crossValidateLambda(
  embeddings: Embeddings,
  set: TrainingSet,
  opts: { folds?: number; seed?: number; grid?: readonly number[] } = {},
): CrossValidation {
  const grid = opts.grid ?? LAMBDA_PER_LABEL_GRID.map((c) => c / set.rows.length);
  const n = set.rows.length;
  const folds = Math.min(opts.folds ?? 3, n);
  const fold = stratifiedFolds(set, folds, opts.seed ?? 0);
  const C = set.classes;
  const loss = new Float64Array(grid.length);
  const weight = new Float64Array(grid.length);
  for (let f = 0; f < folds; f++) {
    const trainIdx = [...fold.keys()].filter((i) => fold[i] !== f);
    const testIdx = [...fold.keys()].filter((i) => fold[i] === f);
    const train = subsetTrainingSet(set, trainIdx);
    if (!canTrain(train) || testIdx.length === 0) continue;
    let warm: SoftmaxModel | undefined;
    grid.forEach((lambda, g) => {
      // Strong to weak along the grid, each fit warm-started from the previous: a regularisation path.
      warm = fitSoftmax(embeddings, train, { lambda, warmStart: warm, gradientTolerance: 1e-4 });
      const probs = scoreRows(warm, embeddings, testIdx.map((i) => set.rows[i]));
      testIdx.forEach((i, k) => {
        for (let c = 0; c < C; c++) {
          const t = set.targets[i * C + c];
          if (t > 0) loss[g] -= set.weights[i] * t * Math.log(Math.max(1e-6, probs[k * C + c]));
        }
        weight[g] += set.weights[i];
      });
    });
  }
  const scores = grid.map((lambda, g) => ({ lambda, logLoss: weight[g] > 0 ? loss[g] / weight[g] : Infinity }));
  const best = scores.reduce((a, b) => (b.logLoss < a.logLoss ? b : a));
  return { lambda: best.lambda, scores };
}
