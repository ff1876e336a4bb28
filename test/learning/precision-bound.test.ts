// The auto-label threshold picker: the promise "precision >= P above the threshold" must hold in >= 1 - delta of
// repeated draws, on a stream whose true precision at every threshold is known.

import { describe, expect, it } from 'vitest';
import { binomialUpperTail, clopperPearsonLower, clopperPearsonUpper, pickThreshold } from '../../functions/domain/learning/precision-bound.js';
import { createRng } from '../../functions/domain/learning/random.js';

/** Confidence uniform on [0.5, 1]; right with probability conf^3 (a miscalibrated, overconfident model). */
const rightProbability = (conf: number) => conf ** 3;
/** Exact precision of predictions with confidence >= t: mean of conf^3 over U[t, 1]. */
const truePrecision = (t: number) => (1 - t ** 4) / (4 * (1 - t));

describe('pickThreshold', () => {
  it('keeps its promise in at least 95% of draws, even for an overconfident model', () => {
    const rng = createRng(11);
    let chosen = 0;
    let broken = 0;
    for (let trial = 0; trial < 400; trial++) {
      const heldOut = Array.from({ length: 2000 }, () => {
        const confidence = 0.5 + 0.5 * rng.next();
        return { confidence, correct: rng.next() < rightProbability(confidence) };
      });
      const choice = pickThreshold(heldOut, 0.9);
      if (!choice) continue;
      chosen++;
      if (truePrecision(choice.threshold) < 0.9) broken++;
      expect(choice.lowerBound).toBeGreaterThanOrEqual(0.9);
    }
    expect(chosen).toBeGreaterThan(200); // it is not vacuous: most draws get a threshold
    expect(broken / 400).toBeLessThanOrEqual(0.05);
  });

  it('promises nothing when too few held-out predictions could show it', () => {
    // 0.98 at delta 0.05 needs >= 149 all-right predictions above a threshold.
    const fewRight = Array.from({ length: 140 }, () => ({ confidence: 0.999, correct: true }));
    expect(pickThreshold(fewRight, 0.98)).toBeUndefined();
    const enough = Array.from({ length: 160 }, () => ({ confidence: 0.999, correct: true }));
    expect(pickThreshold(enough, 0.98)).toMatchObject({ heldOut: 160, correct: 160, estimate: 1 });
    expect(() => pickThreshold(enough, 1)).toThrow(/precision must be between 0 and 1/);
  });

  it('stops at the first threshold it cannot justify (fixed sequence), even if a lower one looks fine', () => {
    const heldOut = [
      ...Array.from({ length: 300 }, () => ({ confidence: 0.995, correct: true })),
      ...Array.from({ length: 60 }, (_, i) => ({ confidence: 0.9, correct: i >= 30 })),
      ...Array.from({ length: 2000 }, () => ({ confidence: 0.8, correct: true })),
    ];
    const choice = pickThreshold(heldOut, 0.95)!;
    expect(choice.threshold).toBe(0.91);
    expect(choice.tested.at(-1)!.threshold).toBe(0.9);
  });
});

describe('binomial bounds', () => {
  it('match known values', () => {
    expect(binomialUpperTail(10, 10, 0.5)).toBeCloseTo(1 / 1024, 10);
    expect(binomialUpperTail(10, 0, 0.5)).toBe(1);
    expect(binomialUpperTail(20, 15, 0.5)).toBeCloseTo(0.020694732666015625, 10);
    // Clopper-Pearson for 0/10 and 10/10 at 95% two-sided: [0, 0.3085] and [0.6915, 1].
    expect(clopperPearsonUpper(10, 0, 0.025)).toBeCloseTo(0.3085, 4);
    expect(clopperPearsonLower(10, 10, 0.025)).toBeCloseTo(0.6915, 4);
    // 45/50: 95% interval [0.7819, 0.9667].
    expect(clopperPearsonLower(50, 45, 0.025)).toBeCloseTo(0.7819, 3);
    expect(clopperPearsonUpper(50, 45, 0.025)).toBeCloseTo(0.9667, 3);
  });
});
