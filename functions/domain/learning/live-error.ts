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
