// What bench:al's calibration columns read on models whose calibration is known: on 200 images the plug-in ECE of a
// perfectly calibrated model is its sampling floor (~0.05); the debiased estimator (Kumar et al. 2019, normal
// resampling) removes about half of it (measured 0.048 -> 0.027: for the L1 error the correction is only partial
// near 0) and reads a model 10 points off as ~0.10.

import { describe, expect, it } from 'vitest';
import { expectedCalibrationError } from '../../functions/domain/learning/calibration.js';
import { createRng } from '../../functions/domain/learning/random.js';
import { debiasedEce, eceSamplingFloor } from '../bench/lib/al-simulation.js';

/** n two-class predictions with confidence in [0.5, 1), right with probability confidence + shift. */
function draw(seed: number, n: number, shift: number) {
  const rng = createRng(seed);
  const probs = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = 0.5 + 0.5 * rng.next();
    probs[i * 2] = p;
    probs[i * 2 + 1] = 1 - p;
    labels[i] = rng.next() < Math.min(1, Math.max(0, p + shift)) ? 0 : 1;
  }
  return { probs, labels };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('ECE on 200 images', () => {
  it('reads a calibrated model at its sampling floor, and about half of that debiased', () => {
    const runs = [...Array(40).keys()].map((s) => draw(s, 200, 0));
    const plugin = mean(runs.map((r) => expectedCalibrationError(r.probs, r.labels, 2)));
    const floor = mean(runs.map((r) => eceSamplingFloor(r.probs, 2)));
    const debiased = mean(runs.map((r) => debiasedEce(r.probs, r.labels, 2)));
    expect(plugin).toBeGreaterThan(0.03);
    expect(Math.abs(plugin - floor)).toBeLessThan(0.01);
    expect(debiased).toBeLessThan(0.6 * plugin);
    expect(debiased).toBeGreaterThan(0);
  });

  it('reads a model right 10 points less often than it says as ~0.10 debiased', () => {
    const runs = [...Array(40).keys()].map((s) => draw(100 + s, 200, -0.1));
    expect(Math.abs(mean(runs.map((r) => debiasedEce(r.probs, r.labels, 2))) - 0.1)).toBeLessThan(0.02);
  });
});
