// An honest accuracy figure while labeling: the audit stream.
//
// Active learning serves the samples the model is least sure about, so scoring each label against the model's
// prediction measures it on its hardest cases and reads far too low (20-30 points on tf_flowers_dev). Instead:
//  - the audit set: a fixed share of the collection (default 1 in 10), chosen by a hash of the sample id and the
//    project's secret salt, so a uniform random sample of it that active learning never picks from (what it leaves
//    unlabeled stays uniform; the rest of the pool, emptied of its hard samples first, would read too high);
//  - the audit stream: the same share of what labelers are served is drawn uniformly from the audit set's unlabeled
//    samples; nothing tells labelers which ones. Each audited label is a uniform draw of the collection, judged at
//    every retrain by the fold model that did not train on it (outOfFoldAuditSums);
//  - the figure: the current model's mean confidence on the audit set's unlabeled samples, corrected by the
//    calibration error the audits show, weighed against a prior (estimateFromSums, calibrationCorrection).
//
// Pure functions: serving uses the selection rule, the trainer the out-of-fold sums, the quality view the estimator,
// and bench:al / bench:audit all of them (they simulate the stream on a dataset with a test split).

import { topClass } from '../label-validation.js';
import { createRng } from './random.js';
import type { TrainingLabel } from './targets.js';
import type { CalibratedTraining } from './train.js';

/** Share of served samples drawn at random for the audit stream unless the project or the deployment says. */
export const DEFAULT_AUDIT_RATE = 0.1;

/** z for a two-sided 95% interval. */
export const Z95 = 1.959964;

/**
 * The audit rate in force: the project's own setting, else the deployment's (`WINNOW_AUDIT_RATE`, read by the
 * composition roots with `parseAuditRate`), else 1 in 10. A malformed setting is an error naming it, never silently
 * the default.
 */
export function auditRate(projectRate: number | undefined, deploymentRate: number = DEFAULT_AUDIT_RATE): number {
  if (projectRate !== undefined) return checkRate(projectRate, 'the project audit rate');
  return checkRate(deploymentRate, 'the deployment audit rate');
}

/** A deployment's audit rate from its text (e.g. the value of `name`): undefined when blank, an error when malformed. */
export function parseAuditRate(text: string | undefined, name = 'WINNOW_AUDIT_RATE'): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  return checkRate(Number(text), `${name} ("${text}")`);
}

function checkRate(rate: number, what: string): number {
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) throw new Error(`${what} must be a number from 0 to 1 (e.g. 0.1 = 1 in 10)`);
  return rate;
}

/**
 * The selection rule. Each served slot is an audit draw with probability `rate`, decided by `u`, a uniform number in
 * [0, 1) independent of the model and of the labels (Math.random, or a seeded generator in simulations).
 */
export function isAuditDraw(u: number, rate: number): boolean {
  return u < rate;
}

/**
 * Whether a sample belongs to the audit set: a hash of its id (FNV-1a, 32 bits) read as a number in [0, 1), below
 * `rate`. Fixed for a sample and independent of its content, so the set is a uniform random share of the collection.
 */
export function inAuditSet(sampleId: string, rate: number, salt?: string): boolean {
  return rate > 0 && auditHash(salt ? `${salt}:${sampleId}` : sampleId) < rate;
}

/** FNV-1a of the id's UTF-16 code units, scaled to [0, 1). */
export function auditHash(sampleId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < sampleId.length; i++) {
    h ^= sampleId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // A final avalanche: ids that differ in their last characters land far apart.
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h = (h ^ (h >>> 13)) >>> 0;
  return h / 2 ** 32;
}

/** Which of `n` candidates (the audit set's samples still needing labels, in any fixed order) a draw takes: uniform. */
export function auditIndex(u: number, n: number): number {
  return Math.min(n - 1, Math.max(0, Math.floor(u * n)));
}

/** One audited label: what the model predicted of it before training on it (at lease time, or out of fold), and what the labeler said. */
export interface AuditPoint {
  /** The model's top class (at lease time, or out of fold). */
  predicted: number;
  /** The model's probability of that class. */
  confidence: number;
  /** The label's class (its top class). */
  labelClass: number;
}

export interface Interval {
  low: number;
  high: number;
}

/** Wilson score interval for a proportion (good coverage at small n, unlike the normal approximation). */
export function wilsonInterval(successes: number, n: number, z = Z95): Interval {
  if (!(n > 0)) return { low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, center - half), high: Math.min(1, center + half) };
}

export interface ClassAccuracy {
  classIndex: number;
  /** Audited labels of this class. */
  n: number;
  correct: number;
  /** Share of them the model predicted right (recall of the class), null without audited labels. */
  accuracy: number | null;
  low: number | null;
  high: number | null;
}

export interface AccuracyEstimate {
  /** Estimated accuracy of the current model on samples it has not been trained on; null without audited labels. */
  accuracy: number | null;
  /** 95% interval. */
  low: number | null;
  high: number | null;
  /** Audited labels the estimate rests on. */
  n: number;
  /** How many of them the model predicted right. */
  correct: number;
  /**
   * 'audit': the share of audited labels predicted right (Wilson interval).
   * 'audit+confidence': the current model's mean top probability on the audit set's unlabeled samples (what its
   * calibration expects of a uniform sample of the collection), corrected by the calibration's error as the audited
   * labels show it (their mean correct - confidence, weighed against a prior: calibrationCorrection).
   */
  method: 'audit' | 'audit+confidence';
  perClass: ClassAccuracy[];
}

export interface EstimateOptions {
  /**
   * The current model's mean top probability over the audit set's samples still unlabeled (the population of the
   * audit draws). Without it the estimate is the plain audited proportion, which lags behind a model that improves.
   */
  meanConfidence?: number;
  /**
   * How many unlabeled audit-set samples `meanConfidence` is over. They are a sample of the collection, so the
   * accuracy on them is the collection's only up to m(1 - m) / rows of variance, which the interval then includes
   * (about +-10 points at 60 rows, +-4 at 400).
   */
  auditSetRows?: number;
  /** The prior on the calibration's error (default CALIBRATION_PRIOR). */
  calibrationPrior?: readonly { weight: number; sd: number }[];
  z?: number;
}

/** The accuracy estimate from audited labels, oldest first. */
export function estimateAccuracy(points: readonly AuditPoint[], classes: number, opts: EstimateOptions = {}): AccuracyEstimate {
  let correct = 0;
  const perClassN = new Array<number>(classes).fill(0);
  const perClassCorrect = new Array<number>(classes).fill(0);
  for (const p of points) {
    const right = p.predicted === p.labelClass;
    if (right) correct++;
    if (p.labelClass >= 0 && p.labelClass < classes) {
      perClassN[p.labelClass]++;
      if (right) perClassCorrect[p.labelClass]++;
    }
  }
  let residual = 0;
  let residualSq = 0;
  let expectedVar = 0;
  for (const p of points) {
    const r = (p.predicted === p.labelClass ? 1 : 0) - p.confidence;
    residual += r;
    residualSq += r * r;
    expectedVar += p.confidence * (1 - p.confidence);
  }
  return estimateFromSums({ n: points.length, correct, perClassN, perClassCorrect, residual, residualSq, expectedVar }, classes, opts);
}

/**
 * What the estimate needs from the audited labels, as sums (so they can be kept as labels come and go): residual
 * r = (right ? 1 : 0) - confidence at lease time.
 */
export interface AuditSums {
  n: number;
  correct: number;
  /** Per class index (the label's class): audited labels, and how many of them the model predicted right. */
  perClassN: number[];
  perClassCorrect: number[];
  /** Sum of r, of r squared, and of confidence x (1 - confidence). */
  residual: number;
  residualSq: number;
  expectedVar: number;
}

// Exact sums for the quality view. A stored confidence has 4 decimals (annotate.ts rounds it): in ten-thousandths
// it is an integer k, r = right x 10^4 - k, r^2 and k x (10^4 - k) integers in 10^-8. Kept that way, the sums are
// the same whatever order the labels were added and taken away in.
export const CONFIDENCE_UNITS = 1e4;

/** One audited label's terms in those units (exact integers for stored points). */
export function auditTerms(p: AuditPoint): { right: boolean; residual: number; residualSq: number; expectedVar: number } {
  const k = Math.round(p.confidence * CONFIDENCE_UNITS);
  const right = p.predicted === p.labelClass;
  const r = (right ? CONFIDENCE_UNITS : 0) - k;
  return { right, residual: r, residualSq: r * r, expectedVar: k * (CONFIDENCE_UNITS - k) };
}

/** Exact sums of audited labels (in the units of auditTerms, scaled back). */
export function auditSums(points: readonly AuditPoint[], classes: number): AuditSums {
  const sums = { n: 0, correct: 0, perClassN: new Array<number>(classes).fill(0), perClassCorrect: new Array<number>(classes).fill(0), residual: 0, residualSq: 0, expectedVar: 0 };
  for (const p of points) {
    const t = auditTerms(p);
    sums.n++;
    if (t.right) sums.correct++;
    if (p.labelClass >= 0 && p.labelClass < classes) {
      sums.perClassN[p.labelClass]++;
      if (t.right) sums.perClassCorrect[p.labelClass]++;
    }
    sums.residual += t.residual;
    sums.residualSq += t.residualSq;
    sums.expectedVar += t.expectedVar;
  }
  return scaleAuditUnits(sums);
}

/** Sums kept in auditTerms' units, as the estimate reads them. */
export function scaleAuditUnits(units: AuditSums): AuditSums {
  const u2 = CONFIDENCE_UNITS * CONFIDENCE_UNITS;
  return { ...units, residual: units.residual / CONFIDENCE_UNITS, residualSq: units.residualSq / u2, expectedVar: units.expectedVar / u2 };
}

/** The accuracy estimate from the audited labels' sums (see estimateAccuracy). */
export function estimateFromSums(sums: AuditSums, classes: number, opts: EstimateOptions = {}): AccuracyEstimate {
  const z = opts.z ?? Z95;
  const { n, correct } = sums;
  const perClass: ClassAccuracy[] = Array.from({ length: classes }, (_, c) => {
    const m = sums.perClassN[c] ?? 0;
    const right = sums.perClassCorrect[c] ?? 0;
    if (m === 0) return { classIndex: c, n: 0, correct: 0, accuracy: null, low: null, high: null };
    const ci = wilsonInterval(right, m, z);
    return { classIndex: c, n: m, correct: right, accuracy: right / m, ...ci };
  });
  if (n === 0) return { accuracy: null, low: null, high: null, n, correct, method: 'audit', perClass };
  const meanConfidence = opts.meanConfidence;
  if (meanConfidence === undefined || !Number.isFinite(meanConfidence)) {
    return { accuracy: correct / n, ...wilsonInterval(correct, n, z), n, correct, method: 'audit', perClass };
  }
  // a = mean conf(audit set, now) + the calibration's error on the collection, estimated from the audits' residuals
  // r = correct - conf (calibrationCorrection): as many audits as there are, they rarely outweigh the calibration
  // fitted on every label, unless they contradict it.
  const meanR = sums.residual / n;
  // Residual variance: the sample's, but never below what perfectly calibrated probabilities would give (few audits
  // can show a variance of 0 by chance).
  const sampleVar = n > 1 ? Math.max(0, (sums.residualSq - n * meanR * meanR) / (n - 1)) : 0.25;
  const variance = Math.max(sampleVar, sums.expectedVar / n);
  const correction = calibrationCorrection(meanR, variance / n, opts.calibrationPrior ?? CALIBRATION_PRIOR);
  const accuracy = clamp01(meanConfidence + correction.mean);
  const rows = opts.auditSetRows;
  const sampling = rows !== undefined && rows > 0 ? (meanConfidence * (1 - meanConfidence)) / rows : 0;
  const half = z * Math.sqrt(correction.variance + sampling);
  return { accuracy, low: clamp01(accuracy - half), high: clamp01(accuracy + half), n, correct, method: 'audit+confidence', perClass };
}

/**
 * How far the calibrated probabilities may be off on the collection, before any audit: mostly a few points (the
 * calibration is fitted on every label, weighted for the shift between the labels served and the collection), now
 * and then far (a dataset unlike those measured). A mixture of two normals around 0, by weight and sd.
 * Measured with `npm run bench:audit -- --seeds 20 --checkpoints 20,30,50,75,100,150,200` (tf_flowers_dev, default
 * order): the calibrated model's mean top probability on the audit set, alone, was off the true test accuracy by 4.3
 * points on average (-0.2 mean); the audits alone (the difference estimator on ~5-20 audits) by 13.3.
 */
export const CALIBRATION_PRIOR: readonly { weight: number; sd: number }[] = [
  { weight: 0.8, sd: 0.06 },
  { weight: 0.2, sd: 0.2 },
];

/**
 * The posterior of the calibration's error d given the audits' mean residual (meanR ~ N(d, se2)) under the prior
 * mixture: a normal-normal update per component, the components reweighed by how well each explains meanR. Few
 * audits move the estimate little; many, or ones that contradict the calibration, take it over.
 */
export function calibrationCorrection(meanR: number, se2: number, prior: readonly { weight: number; sd: number }[] = CALIBRATION_PRIOR): { mean: number; variance: number } {
  const parts = prior.map(({ weight, sd }) => {
    const spread = sd * sd + se2;
    const shrink = (sd * sd) / spread;
    return { w: (weight * Math.exp((-meanR * meanR) / (2 * spread))) / Math.sqrt(spread), mean: shrink * meanR, variance: shrink * se2 };
  });
  const total = parts.reduce((s, p) => s + p.w, 0);
  if (!(total > 0)) return { mean: meanR, variance: se2 }; // meanR beyond every component: the audits alone
  const mean = parts.reduce((s, p) => s + (p.w / total) * p.mean, 0);
  const second = parts.reduce((s, p) => s + (p.w / total) * (p.variance + p.mean * p.mean), 0);
  return { mean, variance: Math.max(0, second - mean * mean) };
}

/**
 * The audited labels as the latest retrain judges them: for each label served as an audit draw (`audit[i]`; a uniform
 * draw of the collection, retrain.ts), the prediction of the fold model that did not train on
 * it (`outOfFold`, rows x classes, temperature applied: calibration.ts). Every retrain scores all of them again, so
 * the estimate follows the current model; scored at lease time instead, an audit keeps the verdict of whatever model
 * served it (one trained on 16 labels, sure and wrong at 99.6%, still counted at 100 labels), and the figure lags
 * behind the model and swings with its early mistakes.
 * The fold models train on (k-1)/k of the labels: the estimate reads their miscalibration on the collection, which
 * the difference estimator applies to the final model's confidence (estimateFromSums).
 */
export function outOfFoldAuditPoints(outOfFold: ArrayLike<number>, labelClasses: ArrayLike<number>, audit: ArrayLike<number | boolean>, classes: number): AuditPoint[] {
  const points: AuditPoint[] = [];
  for (let i = 0; i < labelClasses.length; i++) {
    if (!audit[i] || labelClasses[i] < 0) continue;
    let predicted = 0;
    for (let c = 1; c < classes; c++) if (outOfFold[i * classes + c] > outOfFold[i * classes + predicted]) predicted = c;
    points.push({ predicted, confidence: outOfFold[i * classes + predicted], labelClass: labelClasses[i] });
  }
  return points;
}

/** The audit draws' labels (`TrainingLabel.audit`) as a calibrated fit's fold models judge them, as sums (quality.ts). */
export function outOfFoldAuditSums(fit: CalibratedTraining, training: readonly TrainingLabel[], classes: number): AuditSums {
  const labelClasses = Array.from(fit.labelIndex, (i) => topClass(training[i].confidences));
  const audit = Array.from(fit.labelIndex, (i) => training[i].audit === true);
  return auditSums(outOfFoldAuditPoints(fit.outOfFold.probs, labelClasses, audit, classes), classes);
}

/**
 * Which audit sums the figure reads: the latest retrain's out-of-fold verdicts (the current model's evidence; the
 * lease-time ones keep those of every earlier model), unless there are none yet (before the first calibrated fit,
 * or when it had no audited label and the lease-time record has some).
 */
export function auditEvidence(heldOut: AuditSums | undefined, atLease: AuditSums): { sums: AuditSums; scoredBy: 'held-out' | 'at-lease' } {
  return heldOut && (heldOut.n > 0 || atLease.n === 0) ? { sums: heldOut, scoredBy: 'held-out' } : { sums: atLease, scoredBy: 'at-lease' };
}

/** Mean of the largest probability per row of a row-major [rows x classes] matrix (NaN when empty). */
export function meanTopProbability(probs: ArrayLike<number>, classes: number, rows = Math.floor(probs.length / Math.max(1, classes))): number {
  if (!(rows > 0) || classes < 1) return NaN;
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    let best = -Infinity;
    for (let c = 0; c < classes; c++) best = Math.max(best, probs[r * classes + c]);
    sum += best;
  }
  return sum / rows;
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

export interface AuditRowsInput {
  /** The ranked rows, best first, as the strategy returned them. */
  rows: Int32Array;
  /** The current model's calibrated probabilities for every row of the pool (`classes` per row). */
  probs: Float32Array;
  classes: number;
  /** Sample id of each pool row. */
  sampleIds: readonly string[];
  /** Rows that have their labels (never ranked). */
  labeled: ReadonlySet<number>;
  rate: number;
  /** The project's audit salt (Project.auditSalt). */
  salt?: string;
  /** Length of the stored ranking. */
  limit: number;
  /** How many unlabeled audit-set rows to keep at most. */
  auditRows: number;
  seed: number;
}

/**
 * The ranking the trainer stores, with the audit set's share of it made uniform. Ranked serving never hands out an
 * audit-set sample (domain/serving/lease-walk.ts), so the ranked head keeps only the others; after it come up to `auditRows`
 * unlabeled audit-set samples drawn uniformly (seeded), with their probabilities. Audit draws and the estimate's
 * model-confidence term read exactly those rows, so they speak for the whole unlabeled audit set even when the
 * collection is far larger than the ranking. (Without this, a project with more unlabeled images than the ranking
 * holds would draw its audits only among the most uncertain ones, and the accuracy figure would read low.)
 */
export function withUniformAuditRows(input: AuditRowsInput): { rows: Int32Array; probs: Float32Array } {
  const { rows, probs, classes, sampleIds, labeled, rate, limit, salt } = input;
  const inSet = new Uint8Array(sampleIds.length);
  const candidates: number[] = [];
  if (rate > 0) {
    for (let r = 0; r < sampleIds.length; r++) {
      if (!inAuditSet(sampleIds[r], rate, salt)) continue;
      inSet[r] = 1;
      if (!labeled.has(r)) candidates.push(r);
    }
  }
  // A uniform sample without replacement: the first k places of a partial Fisher-Yates shuffle.
  const k = Math.min(candidates.length, Math.max(0, input.auditRows), limit);
  const rng = createRng(input.seed);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(candidates.length - i);
    [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
  }
  const head: number[] = [];
  for (let i = 0; i < rows.length && head.length < limit - k; i++) if (!inSet[rows[i]]) head.push(rows[i]);
  const out = Int32Array.from([...head, ...candidates.slice(0, k)]);
  const outProbs = new Float32Array(out.length * classes);
  for (let i = 0; i < out.length; i++) outProbs.set(probs.subarray(out[i] * classes, (out[i] + 1) * classes), i * classes);
  return { rows: out, probs: outProbs };
}
