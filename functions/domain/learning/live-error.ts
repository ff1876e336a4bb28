// The model's error on the samples it served: when a sample is served, its probabilities are stored with the lease;
// when the label arrives, they are compared with it here. Active learning serves the samples the model is least sure
// about, so this error is far higher than on a typical image: it says how hard the served samples are, not how
// accurate the model is. The accuracy estimate comes from the audit stream (audit.ts).

export interface LiveErrorPoint {
  /** Brier score: sum over classes of (p_c - y_c)^2, y = the label's normalised confidences. 0 = perfect, max 2. */
  squaredError: number;
  /** Whether the model's top class is (one of) the label's top class(es). */
  correct: boolean;
  /** The model's top class and its probability. */
  predicted?: number;
  confidence?: number;
}

/**
 * The error of the probabilities shown with a sample against the label it got. Undefined when there is nothing
 * to compare: an ambiguous label, a label with no confidence, or no probabilities stored (no model yet).
 */
export function liveErrorPoint(
  shownProbs: ArrayLike<number> | undefined,
  confidences: ArrayLike<number>,
  ambiguous = false,
): LiveErrorPoint | undefined {
  if (ambiguous || !shownProbs || shownProbs.length !== confidences.length) return undefined;
  let sum = 0;
  for (let c = 0; c < confidences.length; c++) sum += Math.max(0, confidences[c]);
  if (!(sum > 0)) return undefined;
  let squaredError = 0;
  let top = 0;
  let labelTop = 0;
  for (let c = 0; c < confidences.length; c++) {
    const y = Math.max(0, confidences[c]) / sum;
    squaredError += (shownProbs[c] - y) ** 2;
    if (shownProbs[c] > shownProbs[top]) top = c;
    labelTop = Math.max(labelTop, y);
  }
  const yTop = Math.max(0, confidences[top]) / sum;
  return { squaredError, correct: yTop > 0 && yTop >= labelTop - 1e-12, predicted: top, confidence: Math.round(shownProbs[top] * 1e4) / 1e4 };
}

export interface LiveErrorSample extends LiveErrorPoint {
  /** Position in the series (0 = first labeled sample that had probabilities). */
  index: number;
  /** Mean squared error of points 0..index. */
  runningMse: number;
  /** Share of points 0..index whose top class was wrong. */
  runningErrorRate: number;
  /** Share wrong among the last `window` points up to index. */
  windowErrorRate: number;
}

export interface LiveErrorSeries {
  points: LiveErrorSample[];
  count: number;
  window: number;
  mse: number;
  errorRate: number;
  windowErrorRate: number;
}

/** Aggregates points in label order (oldest first). Empty input gives NaN rates and no estimate. */
export function liveErrorSeries(series: readonly LiveErrorPoint[], window = 50): LiveErrorSeries {
  const points: LiveErrorSample[] = [];
  let se = 0;
  let wrong = 0;
  let windowWrong = 0;
  series.forEach((p, i) => {
    se += p.squaredError;
    if (!p.correct) wrong++;
    if (!p.correct) windowWrong++;
    if (i >= window && !series[i - window].correct) windowWrong--;
    const n = i + 1;
    points.push({ ...p, index: i, runningMse: se / n, runningErrorRate: wrong / n, windowErrorRate: windowWrong / Math.min(n, window) });
  });
  const last = points[points.length - 1];
  return {
    points,
    count: points.length,
    window,
    mse: last?.runningMse ?? NaN,
    errorRate: last?.runningErrorRate ?? NaN,
    windowErrorRate: last?.windowErrorRate ?? NaN,
  };
}

// Exact aggregates. The quality view keeps the series' sums with the project's counts (added to and taken from as
// labels come and go, in any order), so they are integers: a stored squared error has 6 decimals (annotate.ts rounds
// it), summed in millionths. Running figures over a prefix are the total minus what came after it, so the view needs
// the totals and the newest points only, and gives the same answer as the whole series read in label order.

/** Millionths: the unit of the kept squared-error sum. */
export const SQUARED_ERROR_UNITS = 1e6;

/** A point's squared error in millionths (exact for stored points, which have 6 decimals). */
export const squaredErrorUnits = (squaredError: number) => Math.round(squaredError * SQUARED_ERROR_UNITS);

/** The whole series' sums: points, squared error in millionths, points whose top class was wrong. */
export interface LiveErrorSums {
  count: number;
  squaredErrorUnits: number;
  wrong: number;
}

export function liveErrorSums(series: readonly LiveErrorPoint[]): LiveErrorSums {
  let squaredError = 0;
  let wrong = 0;
  for (const p of series) {
    squaredError += squaredErrorUnits(p.squaredError);
    if (!p.correct) wrong++;
  }
  return { count: series.length, squaredErrorUnits: squaredError, wrong };
}

/**
 * The series' last `maxPoints` points with their running figures, and the totals, from the sums of the whole series
 * and its newest points (oldest first): at least `maxPoints + window - 1` of them, or all. Figures are the exact
 * sums' (no rounding that depends on the order labels were added in).
 */
export function liveErrorTail(sums: LiveErrorSums, newest: readonly LiveErrorPoint[], window = 50, maxPoints = Infinity): LiveErrorSeries {
  const n = sums.count;
  const first = n - newest.length; // index of newest[0] in the whole series
  const shown = Math.max(first, n - maxPoints, 0);
  if (first < 0) throw new Error(`the newest ${newest.length} points are more than the series' ${n}`);
  if (first > 0 && shown - first < Math.min(window - 1, shown)) throw new Error(`the window needs ${window - 1} points before the first shown`);
  // Sums up to and including each point, going back from the totals.
  let se = sums.squaredErrorUnits;
  let wrong = sums.wrong;
  const upto: { se: number; wrong: number }[] = new Array(newest.length);
  for (let k = newest.length - 1; k >= 0; k--) {
    upto[k] = { se, wrong };
    se -= squaredErrorUnits(newest[k].squaredError);
    if (!newest[k].correct) wrong--;
  }
  const points: LiveErrorSample[] = [];
  let windowWrong = 0;
  for (let k = 0; k < newest.length; k++) {
    const i = first + k;
    if (!newest[k].correct) windowWrong++;
    if (k >= window && !newest[k - window].correct) windowWrong--;
    if (i < shown) continue;
    const count = i + 1;
    // The window's wrong points are counted among the points read: enough of them precede the first one shown.
    points.push({
      ...newest[k],
      index: i,
      runningMse: upto[k].se / SQUARED_ERROR_UNITS / count,
      runningErrorRate: upto[k].wrong / count,
      windowErrorRate: windowWrong / Math.min(count, window),
    });
  }
  return {
    points,
    count: n,
    window,
    mse: n > 0 ? sums.squaredErrorUnits / SQUARED_ERROR_UNITS / n : NaN,
    errorRate: n > 0 ? sums.wrong / n : NaN,
    windowErrorRate: n > 0 ? windowOf(newest, window) / Math.min(n, window) : NaN,
  };
}

function windowOf(newest: readonly LiveErrorPoint[], window: number): number {
  let wrong = 0;
  for (let k = Math.max(0, newest.length - window); k < newest.length; k++) if (!newest[k].correct) wrong++;
  return wrong;
}
