// A labeling session with the audit stream, simulated on a dataset with a test split (bench:audit and bench:al): a
// labeler who answers with the true class, served in the given order, the model retrained every `batch` labels as
// the trainer does (functions/domain/retrain.ts: the calibrated fit, the audit draws' labels marked), and `rate` of the
// served samples drawn from the audit set as serving does (functions/domain/serving/lease-walk.ts). At each
// checkpoint: the true test accuracy of the current model and what the estimators of
// functions/domain/learning/audit.ts say.

import {
  auditEvidence,
  auditIndex,
  auditSums,
  estimateAccuracy,
  estimateFromSums,
  inAuditSet,
  isAuditDraw,
  outOfFoldAuditSums,
  type AuditPoint,
  type AuditSums,
} from '../../../functions/domain/learning/audit.js';
import type { Clustering } from '../../../functions/domain/learning/kmeans.js';
import { createRng } from '../../../functions/domain/learning/random.js';
import { scoreAll } from '../../../functions/domain/learning/scoring.js';
import type { SoftmaxModel } from '../../../functions/domain/learning/softmax.js';
import { DEFAULT_STRATEGY, rank, type StrategyName } from '../../../functions/domain/learning/strategies.js';
import type { TrainingLabel } from '../../../functions/domain/learning/targets.js';
import { servedCalibration, trainCalibrated, trainSoftmax } from '../../../functions/domain/learning/train.js';
import type { Task } from './al-simulation.js';

export interface AuditCheckpoint {
  labels: number;
  /** Audited labels so far. */
  audits: number;
  /** True accuracy of the current model on the test split. */
  truth: number;
  /** The audited share (at lease time) with its Wilson interval. */
  share: { accuracy: number | null; low: number | null; high: number | null };
  /** The difference estimator (current model's mean confidence on the audit set, corrected by the audits scored at lease time). */
  difference: { accuracy: number | null; low: number | null; high: number | null };
  /** What the quality view shows: the difference estimator on the audits as the latest retrain's fold models judge them. */
  heldOut: { accuracy: number | null; low: number | null; high: number | null; n: number };
  /** The current model's mean top probability on the audit set's unlabeled samples, and the out-of-fold audit sums behind `heldOut`. */
  meanConfidence?: number;
  heldOutSums?: AuditSums;
  /** The error on the served (ranked) samples, the figure the app used to call accuracy (as 1 - error). */
  servedError: number | null;
}

/** One estimator's figures at a checkpoint (AuditCheckpoint.share, .difference, .heldOut, ...). */
export type EstimatePick = (c: AuditCheckpoint) => { accuracy: number | null; low: number | null; high: number | null };

/**
 * How an estimator did over checkpoints where it gave a figure: how many, mean error and mean |error| against the true
 * test accuracy, the share whose interval held the truth, the interval's mean width (fractions, not points).
 */
export function estimateSummary(points: readonly AuditCheckpoint[], pick: EstimatePick) {
  const some = points.filter((c) => pick(c).accuracy !== null);
  const mean = (f: (c: AuditCheckpoint) => number) => some.reduce((s, c) => s + f(c), 0) / Math.max(1, some.length);
  return {
    n: some.length,
    bias: mean((c) => pick(c).accuracy! - c.truth),
    mae: mean((c) => Math.abs(pick(c).accuracy! - c.truth)),
    coverage: mean((c) => (pick(c).low! <= c.truth && c.truth <= pick(c).high! ? 1 : 0)),
    width: mean((c) => pick(c).high! - pick(c).low!),
  };
}

export interface AuditSessionOptions {
  rate?: number;
  batch?: number;
  strategy?: StrategyName;
}

const topOf = (p: ArrayLike<number>, row: number, C: number) => {
  let best = 0;
  for (let c = 1; c < C; c++) if (p[row * C + c] > p[row * C + best]) best = c;
  return best;
};

export function simulateAuditSession(task: Task, seed: number, checkpoints: number[], opts: AuditSessionOptions = {}): AuditCheckpoint[] {
  const C = task.classes;
  const rate = opts.rate ?? 0.1;
  const batch = opts.batch ?? 4;
  const strategy = opts.strategy ?? DEFAULT_STRATEGY;
  const rng = createRng(7_000 + seed);
  const rows = task.pool.rows;
  // The audit set: the serving rule on made-up sample ids, different per seed.
  const inSet = Uint8Array.from({ length: rows }, (_, r) => (inAuditSet(`seed${seed}-row${r}`, rate) ? 1 : 0));
  const isLabeled = new Uint8Array(rows);
  const labeled: number[] = [];
  const counts = new Float64Array(C);
  const audits: AuditPoint[] = [];
  let servedWrong = 0;
  let servedScored = 0;
  let model: SoftmaxModel | undefined;
  let probs: Float32Array | undefined;
  let heldOut: AuditSums | undefined;
  let clustering: Clustering | undefined;
  let queue: Int32Array = new Int32Array(0);
  let cursor = 0;
  const out: AuditCheckpoint[] = [];
  const last = Math.max(...checkpoints);
  for (let n = 1; n <= last; n++) {
    let row = -1;
    if (probs && isAuditDraw(rng.next(), rate)) {
      const candidates: number[] = [];
      for (let r = 0; r < rows; r++) if (inSet[r] && !isLabeled[r]) candidates.push(r);
      if (candidates.length > 0) {
        row = candidates[auditIndex(rng.next(), candidates.length)];
        const predicted = topOf(probs, row, C);
        audits.push({ predicted, confidence: probs[row * C + predicted], labelClass: task.poolLabels[row] });
      }
    }
    while (row < 0) {
      if (cursor >= queue.length) {
        const ranking = rank(strategy, { embeddings: task.pool, labeled, model, annotationsPerClass: counts, seed, clustering, limit: 2000, batchSize: 20, probs });
        clustering = ranking.clustering ?? clustering;
        queue = ranking.rows;
        cursor = 0;
        if (queue.length === 0) throw new Error('the pool ran out before the last checkpoint');
      }
      const r = queue[cursor++];
      if (!isLabeled[r] && !inSet[r]) row = r;
    }
    const wasAudit = inSet[row] === 1;
    if (probs && !wasAudit) {
      servedScored++;
      if (topOf(probs, row, C) !== task.poolLabels[row]) servedWrong++;
    }
    labeled.push(row);
    isLabeled[row] = 1;
    counts[task.poolLabels[row]]++;
    const checkpoint = checkpoints.includes(n);
    if (n % batch === 0 || checkpoint) {
      if (counts.filter((c) => c > 0).length >= 2) {
        const labels: TrainingLabel[] = labeled.map((r) => ({
          row: r,
          confidences: Array.from({ length: C }, (_, j) => (j === task.poolLabels[r] ? 1 : 0)),
          ...(inSet[r] ? { audit: true } : {}),
        }));
        // As retrain.ts fits (without the neighbour smoothing, which only the mislabel finder reads).
        const fit = trainCalibrated(task.pool, labels, { classes: C, warmStart: model, calibration: servedCalibration(strategy) });
        model = fit?.model ?? trainSoftmax(task.pool, labels, { classes: C, warmStart: model }) ?? model;
        heldOut = fit ? outOfFoldAuditSums(fit, labels, C) : undefined;
        probs = model && scoreAll(model, task.pool);
      }
      queue = new Int32Array(0);
    }
    if (checkpoint && model && probs) {
      const p = scoreAll(model, task.test);
      let right = 0;
      for (let i = 0; i < task.testLabels.length; i++) if (topOf(p, i, C) === task.testLabels[i]) right++;
      let sum = 0;
      let m = 0;
      for (let r = 0; r < rows; r++) {
        if (!inSet[r] || isLabeled[r]) continue;
        sum += probs[r * C + topOf(probs, r, C)];
        m++;
      }
      const share = estimateAccuracy(audits, C);
      const withConfidence = m > 0 ? { meanConfidence: sum / m, auditSetRows: m } : {};
      const difference = estimateAccuracy(audits, C, withConfidence);
      // The quality view's choice (quality.ts): the retrain's out-of-fold verdicts once it has any.
      const shown = estimateFromSums(auditEvidence(heldOut, auditSums(audits, C)).sums, C, withConfidence);
      out.push({
        labels: n,
        audits: audits.length,
        truth: right / task.testLabels.length,
        share: { accuracy: share.accuracy, low: share.low, high: share.high },
        difference: { accuracy: difference.accuracy, low: difference.low, high: difference.high },
        heldOut: { accuracy: shown.accuracy, low: shown.low, high: shown.high, n: shown.n },
        ...(m > 0 ? { meanConfidence: sum / m } : {}),
        ...(heldOut ? { heldOutSums: heldOut } : {}),
        servedError: servedScored > 0 ? servedWrong / servedScored : null,
      });
    }
  }
  return out;
}
