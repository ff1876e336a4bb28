// Auto-labeling with a guarantee: the confidence threshold above which the model's labels reach a promised
// precision, chosen on held-out predictions (each human label predicted by a model that never saw it) with an exact
// binomial (Clopper-Pearson) bound and a correction for having tried many thresholds.
//
// The correction is fixed-sequence testing, as in Learn-then-Test (Angelopoulos et al., 2021): thresholds are tested
// from the highest down, H0(t) = "precision of the labels with confidence >= t is below P", each at level delta, and
// the procedure stops at the first H0 it cannot reject. The family-wise error is then at most delta (no Bonferroni
// factor), so with probability >= 1 - delta every threshold it accepts, the lowest one included, has precision >= P
// on samples exchangeable with the held-out ones. The sequence starts at the highest threshold with enough held-out
// samples above it that a rejection is possible at all (>= log(delta) / log(P)): that depends on the confidences
// only, never on which predictions were right, so the order is still fixed before any test looks at the outcomes.
//
// What it does not cover: the held-out labels are the ones people were served (mostly the model's uncertain cases,
// plus the audit stream), not a uniform sample of what is left; the remaining pool is usually easier, which makes
// the bound conservative there rather than optimistic (bench:al measures the true precision).

/** Candidate thresholds, highest first (fixed in advance). */
export const THRESHOLD_GRID: readonly number[] = [
  0.9999, 0.9995, 0.999, 0.998, 0.997, 0.995, 0.993, 0.99, 0.985, 0.98, 0.975, 0.97, 0.965, 0.96, 0.955, 0.95,
  ...Array.from({ length: 45 }, (_, k) => Math.round((0.94 - k * 0.01) * 100) / 100),
];

/** Error level of the guarantee: precision >= P holds with probability >= 1 - delta. */
export const DEFAULT_DELTA = 0.05;

export interface HeldOutPrediction {
  /** Calibrated probability of the predicted class. */
  confidence: number;
  /** The predicted class is the human label's class. */
  correct: boolean;
}

export interface ThresholdChoice {
  /** Lowest accepted threshold: auto-label samples whose confidence is >= this. */
  threshold: number;
  /** Held-out predictions at or above the threshold, and how many of them were right. */
  heldOut: number;
  correct: number;
  /** correct / heldOut. */
  estimate: number;
  /** One-sided Clopper-Pearson lower bound at 1 - delta (>= the promised precision by construction). */
  lowerBound: number;
  /** Two-sided 95% Clopper-Pearson interval, for display. */
  interval: { low: number; high: number };
  delta: number;
  /** Thresholds tested, in order, with their held-out count, right count and p-value. */
  tested: { threshold: number; heldOut: number; correct: number; pValue: number }[];
}

/**
 * The lowest threshold whose precision is shown >= `precision` by fixed-sequence binomial tests at level `delta`;
 * undefined when not even the first testable threshold passes (too few held-out predictions, or not precise enough).
 */
export function pickThreshold(
  heldOut: readonly HeldOutPrediction[],
  precision: number,
  opts: { delta?: number; grid?: readonly number[] } = {},
): ThresholdChoice | undefined {
  if (!(precision > 0 && precision < 1)) throw new Error(`precision must be between 0 and 1 (exclusive), got ${precision}`);
  const delta = opts.delta ?? DEFAULT_DELTA;
  if (!(delta > 0 && delta < 1)) throw new Error(`delta must be between 0 and 1 (exclusive), got ${delta}`);
  const grid = [...(opts.grid ?? THRESHOLD_GRID)].sort((a, b) => b - a);
  const sorted = [...heldOut].sort((a, b) => b.confidence - a.confidence);
  const minCount = Math.ceil(Math.log(delta) / Math.log(precision));
  const tested: ThresholdChoice['tested'] = [];
  let accepted: { threshold: number; m: number; k: number } | undefined;
  let m = 0;
  let k = 0;
  for (const t of grid) {
    while (m < sorted.length && sorted[m].confidence >= t) k += sorted[m++].correct ? 1 : 0;
    if (m < minCount) continue; // cannot be rejected whatever the outcomes: not part of the sequence
    const pValue = binomialUpperTail(m, k, precision);
    tested.push({ threshold: t, heldOut: m, correct: k, pValue });
    if (pValue > delta) break;
    accepted = { threshold: t, m, k };
  }
  if (!accepted) return undefined;
  return {
    threshold: accepted.threshold,
    heldOut: accepted.m,
    correct: accepted.k,
    estimate: accepted.k / accepted.m,
    lowerBound: clopperPearsonLower(accepted.m, accepted.k, delta),
    interval: { low: clopperPearsonLower(accepted.m, accepted.k, 0.025), high: clopperPearsonUpper(accepted.m, accepted.k, 0.025) },
    delta,
    tested,
  };
}

/** P(X >= k) for X ~ Binomial(n, p): the p-value of k successes in n against "success rate <= p". */
export function binomialUpperTail(n: number, k: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const lp = Math.log(p);
  const lq = Math.log1p(-p);
  // log C(n, i) p^i q^(n-i), summed from i = k up in log space.
  let logTerm = logChoose(n, k) + k * lp + (n - k) * lq;
  let max = logTerm;
  const terms = [logTerm];
  for (let i = k + 1; i <= n; i++) {
    logTerm += Math.log((n - i + 1) / i) + lp - lq;
    terms.push(logTerm);
    if (logTerm > max) max = logTerm;
  }
  let sum = 0;
  for (const t of terms) sum += Math.exp(t - max);
  return Math.min(1, Math.exp(max + Math.log(sum)));
}

/** One-sided lower confidence bound at 1 - alpha for a binomial proportion (exact, Clopper-Pearson). */
export function clopperPearsonLower(n: number, k: number, alpha: number): number {
  if (k <= 0) return 0;
  // The p with P(X >= k | p) = alpha; the tail grows with p.
  return bisect((p) => binomialUpperTail(n, k, p) - alpha);
}

/** One-sided upper confidence bound at 1 - alpha (exact, Clopper-Pearson). */
export function clopperPearsonUpper(n: number, k: number, alpha: number): number {
  if (k >= n) return 1;
  // The p with P(X <= k | p) = alpha, i.e. 1 - P(X >= k + 1 | p) = alpha; decreasing in p.
  return bisect((p) => alpha - (1 - binomialUpperTail(n, k + 1, p)));
}

function bisect(f: (p: number) => number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

const LOG_FACTORIALS: number[] = [0];
function logFactorial(n: number): number {
  for (let i = LOG_FACTORIALS.length; i <= n; i++) LOG_FACTORIALS[i] = LOG_FACTORIALS[i - 1] + Math.log(i);
  return LOG_FACTORIALS[n];
}
