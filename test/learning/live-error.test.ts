import { describe, expect, it } from 'vitest';
import { liveErrorPoint, liveErrorSeries } from '../../functions/domain/learning/live-error.js';

describe('live generalization error', () => {
  it('scores one labeled sample against the probabilities shown with it', () => {
    const p = liveErrorPoint([0.7, 0.2, 0.1], [1, 0, 0])!;
    expect(p.squaredError).toBeCloseTo(0.09 + 0.04 + 0.01, 10);
    expect(p.correct).toBe(true);
    const wrong = liveErrorPoint([0.7, 0.2, 0.1], [0, 1, 0])!;
    expect(wrong.squaredError).toBeCloseTo(0.49 + 0.64 + 0.01, 10);
    expect(wrong.correct).toBe(false);
  });

  it('compares against a soft label normalised to sum 1', () => {
    // [0.75, 0.25] given as confidences 0.75/0.25; shown [0.5, 0.5].
    const p = liveErrorPoint([0.5, 0.5], [0.75, 0.25])!;
    expect(p.squaredError).toBeCloseTo(0.0625 + 0.0625, 10);
    expect(p.correct).toBe(true); // tie in the shown probabilities resolves to the first class, the label's top
    expect(liveErrorPoint([0.2, 0.8], [0.5, 0])!.squaredError).toBeCloseTo(0.64 + 0.64, 10);
  });

  it('has no point for ambiguous labels or when no probabilities were shown', () => {
    expect(liveErrorPoint([0.5, 0.5], [1, 0], true)).toBeUndefined();
    expect(liveErrorPoint(undefined, [1, 0])).toBeUndefined();
    expect(liveErrorPoint([0.5, 0.5], [0, 0])).toBeUndefined();
  });

  it('aggregates running MSE, running and windowed error rate (never called accuracy: see audit.ts)', () => {
    const points = [
      { squaredError: 1, correct: false },
      { squaredError: 0.5, correct: false },
      { squaredError: 0.1, correct: true },
      { squaredError: 0.2, correct: true },
      { squaredError: 0.2, correct: true },
    ];
    const s = liveErrorSeries(points, 3);
    expect(s.points.map((p) => p.runningMse)).toEqual([1, 0.75, 1.6 / 3, 1.8 / 4, 2 / 5].map((v) => expect.closeTo(v, 10)));
    expect(s.points.map((p) => p.runningErrorRate)).toEqual([1, 1, 2 / 3, 2 / 4, 2 / 5]);
    expect(s.points.map((p) => p.windowErrorRate)).toEqual([1, 1, 2 / 3, 1 / 3, 0]);
    expect(s.windowErrorRate).toBe(0);
    expect('estimatedAccuracy' in s).toBe(false);
    expect(s.errorRate).toBeCloseTo(0.4, 10);
    expect(s.count).toBe(5);
    expect(liveErrorSeries([]).count).toBe(0);
  });
});
