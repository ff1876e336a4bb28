// Simulated labeling session for the active-learning bench: a labeler who always answers with the true class,
// retraining every `batch` labels (as the trainer worker does) and measuring test accuracy at each retrain.

import { auditIndex, inAuditSet, isAuditDraw } from '../../../functions/domain/learning/audit.js';
import { calibrationBins, expectedCalibrationError } from '../../../functions/domain/learning/calibration.js';
import { createRng } from '../../../functions/domain/learning/random.js';
import { embeddingsFromVectors, type F32Embeddings } from '../../../functions/domain/learning/embeddings.js';
import type { Clustering } from '../../../functions/domain/learning/kmeans.js';
import { scoreAll, scoreRows } from '../../../functions/domain/learning/scoring.js';
import type { SoftmaxModel } from '../../../functions/domain/learning/softmax.js';
import { rank, type StrategyName } from '../../../functions/domain/learning/strategies.js';
import { servedCalibration, type TrainOptions, trainSoftmax } from '../../../functions/domain/learning/train.js';

export interface Task {
  classes: number;
  pool: F32Embeddings;
  poolLabels: Int32Array;
  /** The dataset row of each pool row (the non-test rows, in order). */
  poolRows: Int32Array;
  test: F32Embeddings;
  testLabels: Int32Array;
}

export function makeTask(vectors: Float32Array[], labels: Int32Array, classes: number, isTest: boolean[]): Task {
  const poolIdx = [...isTest.keys()].filter((i) => !isTest[i]);
  const testIdx = [...isTest.keys()].filter((i) => isTest[i]);
  return {
    classes,
    pool: embeddingsFromVectors(poolIdx.map((i) => vectors[i])),
    poolLabels: Int32Array.from(poolIdx, (i) => labels[i]),
    poolRows: Int32Array.from(poolIdx),
    test: embeddingsFromVectors(testIdx.map((i) => vectors[i])),
    testLabels: Int32Array.from(testIdx, (i) => labels[i]),
  };
}

const oneHot = (c: number, C: number) => Array.from({ length: C }, (_, j) => (j === c ? 1 : 0));

export function accuracy(task: Task, model: SoftmaxModel | undefined, fallbackClass: number): number {
  return evaluate(task, model, fallbackClass).accuracy;
}

export interface Evaluation {
  accuracy: number;
  /**
   * The same figures over every image the model has not trained on: the test split and the pool's unlabeled rest
   * (where the app shows its suggestions; true classes known in the bench). Without `unlabeled` rows, the test split.
   */
  heldOut: { images: number; accuracy: number; ece: number; eceFloor: number; meanTop: number };
  /** Test-split ECE with its sampling bias removed (Kumar et al. 2019's normal-resampling debiased estimator, `debiasedEce`). */
  eceDebiased: number;
  /** Expected calibration error on the test split (10 equal-width bins); NaN without a model. */
  ece: number;
  /**
   * The ECE a perfectly calibrated model with the same confidences would show on a test split of this size (each
   * prediction right with probability its confidence; mean of 50 draws): the part of the ECE that is sampling noise.
   */
  eceFloor: number;
  /** Mean probability of the predicted class on the test split; NaN without a model. */
  meanTop: number;
}

export function evaluate(task: Task, model: SoftmaxModel | undefined, fallbackClass: number, unlabeled: readonly number[] = []): Evaluation {
  const { testLabels, classes: C } = task;
  if (!model) {
    const accuracy = testLabels.filter((l) => l === fallbackClass).length / testLabels.length;
    return { accuracy, ece: NaN, eceFloor: NaN, meanTop: NaN, eceDebiased: NaN, heldOut: { images: testLabels.length, accuracy, ece: NaN, eceFloor: NaN, meanTop: NaN } };
  }
  const p = scoreAll(model, task.test);
  const test = topStats(p, testLabels, C);
  const poolProbs = scoreRows(model, task.pool, unlabeled);
  const all = new Float32Array(p.length + poolProbs.length);
  all.set(p);
  all.set(poolProbs, p.length);
  const allLabels = Int32Array.from([...testLabels, ...unlabeled.map((r) => task.poolLabels[r])]);
  const held = topStats(all, allLabels, C);
  return {
    accuracy: test.accuracy,
    ece: expectedCalibrationError(p, testLabels, C),
    eceFloor: eceSamplingFloor(p, C),
    meanTop: test.meanTop,
    eceDebiased: debiasedEce(p, testLabels, C),
    heldOut: { images: allLabels.length, accuracy: held.accuracy, ece: expectedCalibrationError(all, allLabels, C), eceFloor: eceSamplingFloor(all, C), meanTop: held.meanTop },
  };
}

function topStats(p: Float32Array, labels: ArrayLike<number>, C: number): { accuracy: number; meanTop: number } {
  let ok = 0;
  let top = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (p[i * C + c] > p[i * C + best]) best = c;
    if (best === labels[i]) ok++;
    top += p[i * C + best];
  }
  return { accuracy: ok / labels.length, meanTop: top / labels.length };
}

/**
 * Kumar, Liang and Ma 2019 ("Verified uncertainty calibration"), the normal debiased estimator for the L1 ECE: the
 * plug-in ECE (10 equal-width bins) overstates the error by the noise in each bin's accuracy; resampling each bin's
 * accuracy from a normal with its binomial standard error measures that bias, which is subtracted once
 * (2 x plug-in - mean of the resampled ECEs). For the L1 error the correction is partial: a calibrated model's ~0.05 on
 * 200 images reads ~0.027 (test/learning/ece-estimators.test.ts). Seeded.
 */
export function debiasedEce(probs: Float32Array, labels: ArrayLike<number>, C: number, bins = 10, resamples = 400): number {
  const n = labels.length;
  const { conf, hits, count } = calibrationBins(probs, labels, C, bins);
  const used = [...count.keys()].filter((b) => count[b] > 0);
  const acc = used.map((b) => hits[b] / count[b]);
  const mc = used.map((b) => conf[b] / count[b]);
  const share = used.map((b) => count[b] / n);
  const sd = used.map((b, k) => Math.sqrt((acc[k] * (1 - acc[k])) / count[b]));
  const plugin = used.reduce((sum, _, k) => sum + share[k] * Math.abs(acc[k] - mc[k]), 0);
  const rng = createRng(n * 7 + bins);
  let resampled = 0;
  for (let r = 0; r < resamples; r++) {
    let e = 0;
    for (let k = 0; k < used.length; k++) e += share[k] * Math.abs(acc[k] + sd[k] * rng.normal() - mc[k]);
    resampled += e / resamples;
  }
  return 2 * plugin - resampled;
}

/** Mean ECE of `draws` outcome sets drawn from the confidences themselves (seeded): the ECE of a calibrated model. */
export function eceSamplingFloor(probs: Float32Array, C: number, draws = 50): number {
  const n = probs.length / C;
  const rng = createRng(n * 31 + C);
  const two = new Float32Array(n * 2);
  const outcome = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let top = 0;
    for (let c = 1; c < C; c++) if (probs[i * C + c] > probs[i * C + top]) top = c;
    two[i * 2] = probs[i * C + top];
    two[i * 2 + 1] = 1 - probs[i * C + top];
  }
  let sum = 0;
  for (let d = 0; d < draws; d++) {
    // Row i predicts class 0 with its confidence; the truth is class 0 with that probability.
    for (let i = 0; i < n; i++) outcome[i] = rng.next() < two[i * 2] ? 0 : 1;
    sum += expectedCalibrationError(two, outcome, 2);
  }
  return sum / draws;
}

export function fullPoolAccuracy(task: Task): number {
  const labels = Array.from(task.poolLabels, (l, row) => ({ row, confidences: oneHot(l, task.classes) }));
  return accuracy(task, trainSoftmax(task.pool, labels, { classes: task.classes }), 0);
}

/** Label counts at which the simulation retrains and measures: every `batch` up to 200, then every 5% of the count. */
export function schedule(poolSize: number, budgets: number[], batch: number): number[] {
  const points = new Set(budgets.filter((b) => b <= poolSize));
  for (let n = batch; n <= poolSize; n += n < 200 ? batch : Math.max(batch, Math.round(n * 0.05))) points.add(n);
  points.add(poolSize);
  return [...points].sort((a, b) => a - b);
}

export interface Curve {
  labels: number[];
  accuracy: number[];
  ece: number[];
  eceFloor: number[];
  meanTop: number[];
  eceDebiased: number[];
  /** Over the test split and the pool's unlabeled rest (`Evaluation.heldOut`). */
  heldOutEce: number[];
  heldOutFloor: number[];
  heldOutTopMinusAccuracy: number[];
  /** Audit draws among the labels at each checkpoint. */
  audits: number[];
  /** Total fit + rank time, ms. */
  ms: number;
}

/**
 * One simulated labeling session as the app serves it (functions/domain/serving/lease-walk.ts): active learning's
 * order, except that with `auditRate` > 0 (the app's default 0.1) the audit set, a share of the pool chosen by a
 * hash of the sample id, is never served by active learning, and once there is a model each served slot is an audit
 * draw with probability `auditRate`, a uniform pick among the audit set's unlabeled rows. Audit draws are trained
 * on with `audit: true` (retrain.ts marks the audit set's labels so), and `onRetrain` gets the flags.
 */
export function simulate(
  task: Task,
  strategy: StrategyName,
  seed: number,
  checkpoints: number[],
  opts: {
    train?: Partial<TrainOptions>;
    auditRate?: number;
    onRetrain?: (labeled: readonly number[], model: SoftmaxModel | undefined, audit: readonly boolean[]) => void;
  } = {},
): Curve {
  const C = task.classes;
  const rate = opts.auditRate ?? 0;
  const auditSet = rate > 0 ? [...Array(task.pool.rows).keys()].filter((r) => inAuditSet(`s${seed}-${r}`, rate)) : [];
  const inAudit = new Uint8Array(task.pool.rows);
  for (const r of auditSet) inAudit[r] = 1;
  const rng = createRng(seed * 104729 + 17);
  const labeled: number[] = [];
  const isAudit: boolean[] = [];
  const isLabeled = new Uint8Array(task.pool.rows);
  const counts = new Float64Array(C);
  let model: SoftmaxModel | undefined;
  let clustering: Clustering | undefined;
  const curve: Curve = {
    labels: [], accuracy: [], ece: [], eceFloor: [], meanTop: [], eceDebiased: [], heldOutEce: [], heldOutFloor: [], heldOutTopMinusAccuracy: [], audits: [], ms: 0,
  };
  let queue: Int32Array = new Int32Array(0);
  let cursor = 0;
  const take = (row: number, audit: boolean) => {
    labeled.push(row);
    isAudit.push(audit);
    isLabeled[row] = 1;
    counts[task.poolLabels[row]]++;
  };
  const started = performance.now();
  for (const target of checkpoints) {
    while (labeled.length < target) {
      if (model && auditSet.length > 0 && isAuditDraw(rng.next(), rate)) {
        const open = auditSet.filter((r) => !isLabeled[r]);
        if (open.length > 0) {
          take(open[auditIndex(rng.next(), open.length)], true);
          continue;
        }
      }
      while (cursor < queue.length && (inAudit[queue[cursor]] || isLabeled[queue[cursor]])) cursor++;
      if (cursor >= queue.length) {
        const need = target - labeled.length;
        const ranking = rank(strategy, {
          embeddings: task.pool,
          labeled,
          model,
          annotationsPerClass: counts,
          seed,
          clustering,
          // Room for the audit set's rows the walk skips.
          limit: Math.max(1, need + auditSet.length),
          batchSize: need,
        });
        clustering = ranking.clustering ?? clustering;
        queue = ranking.rows;
        cursor = 0;
        while (cursor < queue.length && (inAudit[queue[cursor]] || isLabeled[queue[cursor]])) cursor++;
        if (cursor >= queue.length) break;
      }
      take(queue[cursor++], false);
    }
    queue = new Int32Array(0); // retrain: the next batch is ranked by the new model
    const labels = labeled.map((row, i) => ({ row, confidences: oneHot(task.poolLabels[row], C), ...(isAudit[i] ? { audit: true } : {}) }));
    // As the trainer fits for this order (servedCalibration), unless the run asks otherwise.
    const calibration = { ...servedCalibration(strategy), ...opts.train?.calibration };
    model = trainSoftmax(task.pool, labels, { classes: C, warmStart: model, ...opts.train, calibration }) ?? model;
    opts.onRetrain?.(labeled, model, isAudit);
    const majority = counts.indexOf(Math.max(...counts));
    const t = performance.now();
    curve.labels.push(labeled.length);
    const unlabeled = [...Array(task.pool.rows).keys()].filter((r) => !isLabeled[r]);
    const ev = evaluate(task, model, majority, unlabeled);
    curve.accuracy.push(ev.accuracy);
    curve.ece.push(ev.ece);
    curve.eceFloor.push(ev.eceFloor);
    curve.meanTop.push(ev.meanTop);
    curve.eceDebiased.push(ev.eceDebiased);
    curve.heldOutEce.push(ev.heldOut.ece);
    curve.heldOutFloor.push(ev.heldOut.eceFloor);
    curve.heldOutTopMinusAccuracy.push(ev.heldOut.meanTop - ev.heldOut.accuracy);
    curve.audits.push(isAudit.filter(Boolean).length);
    curve.ms -= performance.now() - t;
  }
  curve.ms += performance.now() - started;
  return curve;
}

