// From labels as labelers gave them to what the trainer fits: soft target distributions and class-balancing weights.

export interface TrainingLabel {
  /** Row of the sample in the embedding matrix. */
  row: number;
  /** Per-class confidence in project class order, e.g. [0.75, 0.25, 0] (normalised to sum 1 for training). */
  confidences: ArrayLike<number>;
  /** Ambiguous samples are counted but never trained on. */
  ambiguous?: boolean;
  /**
   * An audit draw (audit.ts): served as a uniform random draw from what was unlabeled, not picked by active learning.
   * Trained on like any label; the temperature fit also reads these as an unbiased sample of the pool (calibration.ts).
   */
  audit?: boolean;
}

export interface TrainingSet {
  classes: number;
  /** Embedding rows trained on, one per target row. */
  rows: Int32Array;
  /** rows.length x classes, each row sums to 1. */
  targets: Float64Array;
  /** Per-sample weight from the class weights (1 when balancing is off). */
  weights: Float64Array;
  /** Target mass per class over the trained rows. */
  classCounts: Float64Array;
  /** Weight given to a full unit of each class (bounded inverse frequency). */
  classWeights: Float64Array;
  ambiguous: number;
  /** Labels with no confidence on any class (nothing to learn from). */
  empty: number;
  /** 1 for rows from audit draws (`TrainingLabel.audit`); absent when no label is one. */
  audit?: Uint8Array;
}

export interface TargetOptions {
  /** Weigh classes inversely to their frequency (default true). */
  balanceClasses?: boolean;
  /** Bound on a class weight, and on its inverse (default 10). */
  maxClassWeight?: number;
}

export function buildTrainingSet(labels: readonly TrainingLabel[], classes: number, opts: TargetOptions = {}): TrainingSet {
  const kept: { row: number; target: Float64Array; audit: boolean }[] = [];
  let ambiguous = 0;
  let empty = 0;
  for (const label of labels) {
    if (label.ambiguous) {
      ambiguous++;
      continue;
    }
    if (label.confidences.length !== classes) {
      throw new Error(`label for row ${label.row} has ${label.confidences.length} confidences, expected ${classes}`);
    }
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.max(0, label.confidences[c]);
    if (!(sum > 0)) {
      empty++;
      continue;
    }
    const target = new Float64Array(classes);
    for (let c = 0; c < classes; c++) target[c] = Math.max(0, label.confidences[c]) / sum;
    kept.push({ row: label.row, target, audit: label.audit === true });
  }
  const n = kept.length;
  const targets = new Float64Array(n * classes);
  const classCounts = new Float64Array(classes);
  kept.forEach((k, i) => {
    targets.set(k.target, i * classes);
    for (let c = 0; c < classes; c++) classCounts[c] += k.target[c];
  });
  const classWeights = balanceWeights(classCounts, n, opts);
  const weights = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < classes; c++) weights[i] += targets[i * classes + c] * classWeights[c];
  }
  const audit = kept.some((k) => k.audit) ? Uint8Array.from(kept, (k) => (k.audit ? 1 : 0)) : undefined;
  return { classes, rows: Int32Array.from(kept, (k) => k.row), targets, weights, classCounts, classWeights, ambiguous, empty, ...(audit ? { audit } : {}) };
}

function balanceWeights(counts: Float64Array, n: number, opts: TargetOptions): Float64Array {
  const w = new Float64Array(counts.length).fill(1);
  if (opts.balanceClasses === false) return w;
  const max = opts.maxClassWeight ?? 10;
  const present = counts.filter((c) => c > 0).length;
  for (let c = 0; c < counts.length; c++) {
    if (counts[c] > 0) w[c] = Math.min(max, Math.max(1 / max, n / (present * counts[c])));
  }
  return w;
}

/** Indices of classes with any target mass: the classes a fit can say anything about. */
export function presentClasses(set: TrainingSet): number[] {
  return [...set.classCounts.keys()].filter((c) => set.classCounts[c] > 0);
}
