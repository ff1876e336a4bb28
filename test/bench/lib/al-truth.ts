// What bench:al measures about the truth of what the model says, on a labeled set taken from a simulated session:
// the mislabel finder with 10% of the labels flipped (and on clean labels), and auto-labeling the rest of the pool
// at a promised precision (threshold from the held-out predictions, true precision from the dataset's classes).

import { createRng } from '../../../functions/domain/learning/random.js';
import { suspectsFromOutOfFold } from '../../../functions/domain/learning/review.js';
import { scoreAll } from '../../../functions/domain/learning/scoring.js';
import { carriedThreshold, finalModelThresholds } from '../../../functions/domain/learning/coverage-threshold.js';
import { pickThreshold } from '../../../functions/domain/learning/precision-bound.js';
import { type TrainOptions, trainCalibrated } from '../../../functions/domain/learning/train.js';
import type { Task } from './al-simulation.js';

const oneHot = (c: number, C: number) => Array.from({ length: C }, (_, j) => (j === c ? 1 : 0));

export interface MislabelTrial {
  flipped: number;
  /** Flipped labels the finder flagged. */
  found: number;
  correct: number;
  /** Correct labels it flagged anyway. */
  falseFlags: number;
  /** Same labels, none flipped: how many it flags. */
  clean: number;
  cleanFlags: number;
  /**
   * `correct`, `falseFlags`, `clean` and `cleanFlags` without the labels of images a person found not to show their
   * class (bench/lib/label-review.ts): a dataset label the finder is right to question is no false flag.
   */
  reviewed: { correct: number; falseFlags: number; clean: number; cleanFlags: number };
  /**
   * The finder's signal, of each flipped and of each correct label: the out-of-fold probability of the given class
   * around the sample (smoothed over its pool neighbours, calibration.ts).
   */
  givenProbability: { flipped: number[]; correct: number[] };
  /** The same at the sample's own point only (the signal before the smoothing). */
  pointProbability: { flipped: number[]; correct: number[] };
  /**
   * With WINNOW_BENCH_DUMP_MISLABEL=1 (for studying other rules offline): per label, the given class, whether it was
   * flipped, and the out-of-fold probability vectors smoothed and at the point, on the noisy labels and on the clean.
   */
  dump?: { noisy: LabelDump[]; clean: LabelDump[] };
}

interface LabelDump {
  /** The pool row (the dataset's non-test images in order). */
  row: number;
  given: number;
  flipped: boolean;
  smoothed: number[];
  point: number[];
}

/** The trainer's calibration options a bench run measures (bench:al --shift ...); the trainer's defaults when absent. */
export type TrialCalibration = TrainOptions['calibration'];

/**
 * Flips a seeded 10% of the labels to another class at random and runs the finder; then again on the clean labels.
 * `audit`: the labels that were audit draws; `reviewedWrong`: pool rows whose dataset label a person found wrong.
 */
export function mislabelTrial(
  task: Task,
  rows: readonly number[],
  seed: number,
  rate = 0.1,
  calibration?: TrialCalibration,
  audit: readonly boolean[] = [],
  reviewedWrong: ReadonlySet<number> = new Set(),
): MislabelTrial {
  const C = task.classes;
  const rng = createRng(seed * 7919 + rows.length);
  const order = rows.map((_, i) => ({ i, k: rng.next() })).sort((a, b) => a.k - b.k);
  const flip = new Set(order.slice(0, Math.round(rows.length * rate)).map((o) => o.i));
  const given = rows.map((row, i) => (flip.has(i) ? (task.poolLabels[row] + 1 + rng.int(C - 1)) % C : task.poolLabels[row]));
  const dumping = !!process.env.WINNOW_BENCH_DUMP_MISLABEL;
  const noisy = suspectsOf(task, rows, given, calibration, audit, dumping);
  const found = noisy.flagged.filter((i) => flip.has(i)).length;
  const cleanGiven = rows.map((r) => task.poolLabels[r]);
  const cleanRun = suspectsOf(task, rows, cleanGiven, calibration, audit, dumping);
  const cleanFlagged = cleanRun.flagged;
  const givenProbability = { flipped: [] as number[], correct: [] as number[] };
  noisy.given.forEach((p, i) => (flip.has(i) ? givenProbability.flipped : givenProbability.correct).push(p));
  const pointProbability = { flipped: [] as number[], correct: [] as number[] };
  noisy.point.forEach((p, i) => (flip.has(i) ? pointProbability.flipped : pointProbability.correct).push(p));
  const kept = (i: number) => !reviewedWrong.has(rows[i]);
  const reviewed = {
    correct: rows.filter((_, i) => !flip.has(i) && kept(i)).length,
    falseFlags: noisy.flagged.filter((i) => !flip.has(i) && kept(i)).length,
    clean: rows.filter((_, i) => kept(i)).length,
    cleanFlags: cleanFlagged.filter(kept).length,
  };
  return {
    flipped: flip.size,
    found,
    correct: rows.length - flip.size,
    falseFlags: noisy.flagged.length - found,
    clean: rows.length,
    cleanFlags: cleanFlagged.length,
    reviewed,
    givenProbability,
    pointProbability,
    ...(dumping
      ? {
          dump: {
            noisy: noisy.vectors.map((v, i) => ({ row: rows[i], given: given[i], flipped: flip.has(i), ...v })),
            clean: cleanRun.vectors.map((v, i) => ({ row: rows[i], given: cleanGiven[i], flipped: false, ...v })),
          },
        }
      : {}),
  };
}

function suspectsOf(
  task: Task,
  rows: readonly number[],
  given: number[],
  calibration?: TrialCalibration,
  audit: readonly boolean[] = [],
  /** Also return each label's probability vectors (for WINNOW_BENCH_DUMP_MISLABEL). */
  withVectors = false,
): { flagged: number[]; given: number[]; point: number[]; vectors: { smoothed: number[]; point: number[] }[] } {
  const C = task.classes;
  const labels = rows.map((row, i) => ({ row, confidences: oneHot(given[i], C), ...(audit[i] ? { audit: true } : {}) }));
  const fit = trainCalibrated(task.pool, labels, { classes: C, calibration: { ...calibration, smoothOutOfFold: true } });
  if (!fit) return { flagged: [], given: [], point: [], vectors: [] };
  const p = new Array<number>(rows.length).fill(NaN);
  const point = new Array<number>(rows.length).fill(NaN);
  const vectors = rows.map(() => ({ smoothed: [] as number[], point: [] as number[] }));
  const signal = fit.outOfFold.smoothed ?? fit.outOfFold.probs;
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  fit.labelIndex.forEach((label, k) => {
    p[label] = signal[k * C + given[label]];
    point[label] = fit.outOfFold.probs[k * C + given[label]];
    if (withVectors)
      vectors[label] = {
        smoothed: Array.from(signal.subarray(k * C, (k + 1) * C), round),
        point: Array.from(fit.outOfFold.probs.subarray(k * C, (k + 1) * C), round),
      };
  });
  return { flagged: suspectsFromOutOfFold(fit, labels, C).map((s) => s.label), given: p, point, vectors };
}

/**
 * The best the finder's signal allows: recall when the threshold on the signal (the out-of-fold probability of the
 * given class, smoothed over neighbours, or at the point alone with 'pointProbability') is chosen knowing the truth, so that exactly `falseRate` of the correct labels fall under it (pooled trials).
 */
export function recallAtFalseRate(trials: readonly MislabelTrial[], falseRate: number, signal: 'givenProbability' | 'pointProbability' = 'givenProbability'): number {
  const correct = trials.flatMap((t) => t[signal].correct).filter((p) => !Number.isNaN(p)).sort((a, b) => a - b);
  const flipped = trials.flatMap((t) => t[signal].flipped).filter((p) => !Number.isNaN(p));
  if (correct.length === 0 || flipped.length === 0) return NaN;
  const threshold = correct[Math.min(correct.length - 1, Math.floor(falseRate * correct.length))];
  return flipped.filter((p) => p < threshold).length / flipped.length;
}

export interface AutolabelTrial {
  /** Share of the unlabeled pool auto-labeled. */
  coverage: number;
  autoLabeled: number;
  /** Share of the auto-labels that are the true class (NaN when nothing was labeled). */
  truePrecision: number;
  threshold?: number;
  /** The held-out estimate and its lower bound that justified the threshold. */
  estimate?: number;
  lowerBound?: number;
}

/** Auto-labels the unlabeled pool at each promised precision from one calibrated fit on `rows` (true classes). */
export function autolabelTrial(
  task: Task,
  rows: readonly number[],
  precisions: readonly number[],
  calibration?: TrialCalibration,
  audit: readonly boolean[] = [],
): AutolabelTrial[] {
  const C = task.classes;
  const labels = rows.map((row, i) => ({ row, confidences: oneHot(task.poolLabels[row], C), ...(audit[i] ? { audit: true } : {}) }));
  const fit = trainCalibrated(task.pool, labels, { classes: C, ...(calibration ? { calibration } : {}) });
  const unlabeled = task.pool.rows - rows.length;
  if (!fit) return precisions.map(() => ({ coverage: 0, autoLabeled: 0, truePrecision: NaN }));
  const heldOut = Array.from(fit.labelIndex, (_, k) => {
    const p = fit.outOfFold.probs.subarray(k * C, (k + 1) * C);
    const top = argmax(p);
    return { confidence: p[top], correct: top === task.poolLabels[rows[fit.labelIndex[k]]] };
  });
  const isLabeled = new Uint8Array(task.pool.rows);
  for (const r of rows) isLabeled[r] = 1;
  const probs = scoreAll(fit.model, task.pool);
  // The certified threshold carried to the final model's scale, as the app does (coverage-threshold.ts).
  const finalThresholds = finalModelThresholds(fit, task.pool, probs, isLabeled);
  return precisions.map((precision) => {
    const certified = pickThreshold(heldOut, precision);
    if (!certified) return { coverage: 0, autoLabeled: 0, truePrecision: NaN };
    const choice = { ...certified, threshold: carriedThreshold(certified.threshold, finalThresholds) };
    let n = 0;
    let right = 0;
    for (let r = 0; r < task.pool.rows; r++) {
      if (isLabeled[r]) continue;
      const p = probs.subarray(r * C, (r + 1) * C);
      const top = argmax(p);
      if (p[top] < choice.threshold) continue;
      n++;
      if (top === task.poolLabels[r]) right++;
    }
    return { coverage: n / unlabeled, autoLabeled: n, truePrecision: n > 0 ? right / n : NaN, threshold: choice.threshold, estimate: choice.estimate, lowerBound: choice.lowerBound };
  });
}

function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
  return best;
}
