// The trainer's entry point: labels in, fitted model out (soft targets, ambiguous kept out, classes balanced,
// regularisation cross-validated while labels are few, warm-started from the previous model).

import type { Embeddings } from './embeddings.js';
import { crossValidateLambda, LAMBDA_PER_LABEL_GRID } from './regularization.js';
import { canTrain, fitSoftmax, type SoftmaxModel } from './softmax.js';
import { buildTrainingSet, type TargetOptions, type TrainingLabel } from './targets.js';

export interface TrainOptions extends TargetOptions {
  /** Number of project classes (>= 2). */
  classes: number;
  /**
   * L2 strength. 'auto' (default): LAMBDA_PER_LABEL / labels, i.e. a fixed inverse strength as in scikit-learn's C,
   * strong while labels are few (close to nearest-centroid), weak once there are many. 'cv': k-fold cross-validated
   * over LAMBDA_PER_LABEL_GRID / labels (worth it while labels are few; costs folds x grid fits).
   */
  lambda?: number | 'auto' | 'cv';
  warmStart?: SoftmaxModel;
  maxIterations?: number;
  gradientTolerance?: number;
  /** Seed of the cross-validation folds. */
  seed?: number;
}

/** lambda = LAMBDA_PER_LABEL / (labels trained on), bounded to [MIN_LAMBDA, MAX_LAMBDA]. */
export const LAMBDA_PER_LABEL = 0.5;
const MIN_LAMBDA = 1e-5;
const MAX_LAMBDA = 0.1;

export function autoLambda(labels: number, perLabel = LAMBDA_PER_LABEL): number {
  return Math.min(MAX_LAMBDA, Math.max(MIN_LAMBDA, perLabel / Math.max(1, labels)));
}

/** Returns undefined while fewer than two classes have labels (the ranking then stays on cold start). */
export function trainSoftmax(embeddings: Embeddings, labels: readonly TrainingLabel[], opts: TrainOptions): SoftmaxModel | undefined {
  if (opts.classes < 2) throw new Error('a classifier needs at least two classes');
  const set = buildTrainingSet(labels, opts.classes, opts);
  if (!canTrain(set)) return undefined;
  const n = set.rows.length;
  let lambda = typeof opts.lambda === 'number' ? opts.lambda : autoLambda(n);
  let cv;
  if (opts.lambda === 'cv' && n >= 4) {
    cv = crossValidateLambda(embeddings, set, { seed: opts.seed, grid: LAMBDA_PER_LABEL_GRID.map((c) => autoLambda(n, c)) });
    lambda = cv.lambda;
  }
  const model = fitSoftmax(embeddings, set, {
    lambda,
    warmStart: opts.warmStart,
    maxIterations: opts.maxIterations,
    gradientTolerance: opts.gradientTolerance,
  });
  if (cv) model.fit.crossValidation = cv.scores;
  return model;
}
