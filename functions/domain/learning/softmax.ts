// Multinomial logistic regression (softmax) on L2-normalised embeddings: weighted soft-target cross-entropy,
// L2 penalty on the weights (not the bias), fitted by full-batch L-BFGS with the SIMD kernels.
// Classes nobody has labeled yet are left out of the fit and predicted with probability ~0.

import type { Calibration } from './calibration.js';
import { type Embeddings, gatherRows } from './embeddings.js';
import { minimize } from './lbfgs.js';
import { presentClasses, type TrainingSet } from './targets.js';
import { withResidentRows, type ResidentRows } from './wasm/kernels.js';

export interface SoftmaxModel {
  classes: number;
  dim: number;
  /** classes x dim, row-major. */
  weights: Float32Array;
  bias: Float32Array;
  /** 1 for classes that had labels in this fit. */
  present: Uint8Array;
  lambda: number;
  /** Temperature the logits were divided by (folded into weights and bias); 1 or absent when uncalibrated. */
  temperature?: number;
  fit: FitReport;
}

export interface FitReport {
  trainedOn: number;
  ambiguousExcluded: number;
  emptyExcluded: number;
  classCounts: number[];
  classWeights: number[];
  iterations: number;
  evaluations: number;
  converged: boolean;
  loss: number;
  warmStarted: boolean;
  /** Regularisation strengths tried by cross-validation with their mean held-out log-loss, when it ran. */
  crossValidation?: { lambda: number; logLoss: number }[];
  /** Penalty and temperature chosen on out-of-fold predictions (calibration.ts), when calibrated. */
  calibration?: Calibration;
  /** True when the fit ran on centred rows (the centre is folded into the bias). */
  centered?: boolean;
}

export interface FitOptions {
  lambda: number;
  warmStart?: SoftmaxModel;
  maxIterations?: number;
  gradientTolerance?: number;
  /**
   * Fit on rows minus this vector (e.g. the pool mean, see calibration.ts). The returned model is folded back to
   * raw rows (bias -= W . center), so scoring is unchanged.
   */
  center?: Float32Array;
}

/** Logit given to classes without labels, so their probability is ~1e-13 next to any fitted class. */
const ABSENT_LOGIT = -30;

export function canTrain(set: TrainingSet): boolean {
  return presentClasses(set).length >= 2;
}

/** Fits on a prepared training set whose rows come from `embeddings`. Needs at least two classes with labels. */
export function fitSoftmax(embeddings: Embeddings, set: TrainingSet, opts: FitOptions): SoftmaxModel {
  const present = presentClasses(set);
  if (present.length < 2) throw new Error('training needs labels of at least two classes');
  const { dim } = embeddings;
  const x = gatherRows(embeddings, set.rows);
  const center = opts.center;
  if (center) {
    if (center.length !== dim) throw new Error(`centre has ${center.length} values, expected ${dim}`);
    for (let o = 0; o < x.length; o += dim) for (let d = 0; d < dim; d++) x[o + d] -= center[d];
  }
  const model = withResidentRows(x, set.rows.length, dim, (rows) => fitResident(rows, set, present, opts));
  if (center) {
    // logits of centred rows W (x - m) + b = W x + (b - W m): the same model on raw rows.
    for (const c of present) {
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += model.weights[c * dim + d] * center[d];
      model.bias[c] -= dot;
    }
    model.fit.centered = true;
  }
  return model;
}

function fitResident(rows: ResidentRows, set: TrainingSet, present: number[], opts: FitOptions): SoftmaxModel {
  const { n, dim } = rows;
  const P = present.length;
  const C = set.classes;
  const y = new Float64Array(n * P);
  for (let i = 0; i < n; i++) for (let j = 0; j < P; j++) y[i * P + j] = set.targets[i * C + present[j]];
  const objective = softmaxObjective(rows, y, set.weights, P, opts.lambda);
  const theta0 = new Float64Array(P * dim + P);
  const warm = opts.warmStart && opts.warmStart.dim === dim && opts.warmStart.classes === C ? opts.warmStart : undefined;
  if (warm) {
    // Undo the previous model's temperature, and express its bias in this fit's coordinates (centred or not).
    const t = warm.temperature ?? 1;
    const center = opts.center;
    present.forEach((c, j) => {
      if (!warm.present[c]) return;
      let dot = 0;
      for (let d = 0; d < dim; d++) {
        const w = warm.weights[c * dim + d] * t;
        theta0[j * dim + d] = w;
        if (center) dot += w * center[d];
      }
      theta0[P * dim + j] = warm.bias[c] * t + dot;
    });
  }
  const result = minimize(objective, theta0, {
    maxIterations: opts.maxIterations ?? 300,
    // Looser than machine precision on purpose: rankings and accuracy stop changing long before (fp32 logits anyway).
    gradientTolerance: opts.gradientTolerance ?? 1e-4,
    relativeTolerance: 1e-6,
  });
  const weights = new Float32Array(C * dim);
  const bias = new Float32Array(C).fill(ABSENT_LOGIT);
  const isPresent = new Uint8Array(C);
  present.forEach((c, j) => {
    weights.set(result.x.subarray(j * dim, (j + 1) * dim), c * dim);
    bias[c] = result.x[P * dim + j];
    isPresent[c] = 1;
  });
  return {
    classes: C,
    dim,
    weights,
    bias,
    present: isPresent,
    lambda: opts.lambda,
    fit: {
      trainedOn: n,
      ambiguousExcluded: set.ambiguous,
      emptyExcluded: set.empty,
      classCounts: [...set.classCounts],
      classWeights: [...set.classWeights],
      iterations: result.iterations,
      evaluations: result.evaluations,
      converged: result.converged,
      loss: result.value,
      warmStarted: warm !== undefined,
    },
  };
}

/** Mean weighted cross-entropy + lambda/2 |W|^2 and its gradient, over parameters [W (P x dim), b (P)]. */
function softmaxObjective(rows: ResidentRows, y: Float64Array, weights: Float64Array, P: number, lambda: number) {
  const { n, dim } = rows;
  let weightSum = 0;
  for (let i = 0; i < n; i++) weightSum += weights[i];
  const w32 = new Float32Array(P * dim);
  const logits = new Float32Array(n * P);
  const residual = new Float32Array(n * P);
  const g32 = new Float32Array(P * dim);
  const p = new Float64Array(P);
  const ex = new Float64Array(P);
  return (theta: Float64Array, grad: Float64Array): number => {
    for (let k = 0; k < P * dim; k++) w32[k] = theta[k];
    rows.dots(w32, P, logits);
    let loss = 0;
    const gb = new Float64Array(P);
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let j = 0; j < P; j++) {
        p[j] = logits[i * P + j] + theta[P * dim + j];
        if (p[j] > max) max = p[j];
      }
      let z = 0;
      for (let j = 0; j < P; j++) {
        ex[j] = Math.exp(p[j] - max);
        z += ex[j];
      }
      const logZ = max + Math.log(z);
      const scale = weights[i] / weightSum;
      for (let j = 0; j < P; j++) {
        const t = y[i * P + j];
        if (t > 0) loss -= scale * t * (p[j] - logZ);
        const r = scale * (ex[j] / z - t);
        residual[i * P + j] = r;
        gb[j] += r;
      }
    }
    rows.outer(residual, P, g32);
    let penalty = 0;
    for (let k = 0; k < P * dim; k++) {
      penalty += theta[k] * theta[k];
      grad[k] = g32[k] + lambda * theta[k];
    }
    for (let j = 0; j < P; j++) grad[P * dim + j] = gb[j];
    return loss + 0.5 * lambda * penalty;
  };
}
