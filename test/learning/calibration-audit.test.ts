// The percentages shown after labels served in active-learning order with the audit stream mixed in, on real photos
// (tf_flowers_dev embedded by the real MobileNetV2 features model, its own test split held out). Served labels crowd
// the class boundaries, so a temperature fitted on them alone could leave the model unsure of itself on the rest of
// the collection; the audit draws (1 in 10 served, a uniform random pick among what is unlabeled) are an unbiased sample
// of exactly the images the suggestions are shown on, and the temperature fit takes them as evidence
// (calibration.ts auditTemperatureWeights).

import { beforeAll, describe, expect, it } from 'vitest';
import { auditTemperatureWeights } from '../../functions/domain/learning/calibration.js';
import { createRng } from '../../functions/domain/learning/random.js';
import { scoreAll } from '../../functions/domain/learning/scoring.js';
import { trainSoftmax } from '../../functions/domain/learning/train.js';
import type { TrainingLabel } from '../../functions/domain/learning/targets.js';
import type { Task } from '../bench/lib/al-simulation.js';
import { flowersTask, testSetStats } from './flowers-task.js';
import { oneHot } from './synthetic.js';

let task: Task;

beforeAll(async () => {
  task = await flowersTask();
}, 120_000);

/**
 * 20 random labels, then rounds of 45 labels to 200: in each round 1 in 10 is an audit draw (uniform among the
 * unlabeled rows, `audit: true`), the rest the rows the current model is least sure of (smallest margin).
 */
function servedWithAudits(seed: number): TrainingLabel[] {
  const C = task.classes;
  const rng = createRng(seed);
  const order = [...Array(task.pool.rows).keys()].map((r) => ({ r, k: rng.next() })).sort((a, b) => a.k - b.k).map((x) => x.r);
  const labels: TrainingLabel[] = order.slice(0, 20).map((row) => ({ row, confidences: oneHot(task.poolLabels[row], C) }));
  const taken = new Set(labels.map((l) => l.row));
  while (labels.length < 200) {
    const p = scoreAll(trainSoftmax(task.pool, labels, { classes: C, lambda: 'auto' })!, task.pool);
    const margin = (r: number) => {
      const q = Array.from(p.subarray(r * C, (r + 1) * C)).sort((a, b) => b - a);
      return q[0] - q[1];
    };
    const open = order.filter((r) => !taken.has(r));
    const audits = open.map((r) => ({ r, k: rng.next() })).sort((a, b) => a.k - b.k).slice(0, 4).map((x) => x.r);
    for (const r of audits) taken.add(r);
    const hard = open.filter((r) => !taken.has(r)).sort((a, b) => margin(a) - margin(b)).slice(0, 41);
    for (const r of hard) taken.add(r);
    labels.push(...audits.map((row) => ({ row, confidences: oneHot(task.poolLabels[row], C), audit: true })));
    labels.push(...hard.map((row) => ({ row, confidences: oneHot(task.poolLabels[row], C) })));
  }
  return labels.slice(0, 200);
}

describe('the percentages after 200 labels served in active-learning order with audit draws', () => {
  // Measured (seeds 1-3), with the fold models' penalty per label (calibration.ts foldPenalty): mean top
  // probability - accuracy +2.6 / +1.6 / +0.3 points with the audits' say against -1.3 / -0.4 / -3.6 without; ECE
  // 0.051 / 0.043 / 0.042 against 0.038 / 0.027 / 0.038. Before that penalty the default was 2-5 points unsure of
  // itself here and the audits' say helped (ECE 0.053 / 0.027 / 0.040 against 0.066 / 0.037 / 0.052); now both are
  // within 3 points and the default has the lower ECE, so the audits' say stays opt-in.
  it('are as often right as they say on held-out photos, with and without the audit draws as evidence (opt-in)', () => {
    const C = task.classes;
    const runs = [1, 2, 3].map((seed) => {
      const labels = servedWithAudits(seed);
      const withAudits = trainSoftmax(task.pool, labels, { classes: C, seed, calibration: { audit: {} } })!;
      const without = trainSoftmax(task.pool, labels, { classes: C, seed })!;
      expect(withAudits.fit.calibration?.audit?.audits, `seed ${seed}: audit labels read`).toBeGreaterThanOrEqual(15);
      expect(without.fit.calibration?.audit).toBeUndefined();
      return { shown: testSetStats(task, scoreAll(withAudits, task.test)), before: testSetStats(task, scoreAll(without, task.test)) };
    });
    const mean = (f: (r: (typeof runs)[number]) => number) => runs.reduce((a, r) => a + f(r), 0) / runs.length;
    const report = runs
      .map((r) => `with audits ${(r.shown.gap * 100).toFixed(1)} / without ${(r.before.gap * 100).toFixed(1)} points, ECE ${r.shown.ece.toFixed(3)} / ${r.before.ece.toFixed(3)}`)
      .join('; ');
    // The temperature changes no prediction, only how sure each one is said to be.
    expect(mean((r) => r.shown.accuracy)).toBe(mean((r) => r.before.accuracy));
    expect(Math.abs(mean((r) => r.shown.gap)), `mean top probability - accuracy (${report})`).toBeLessThan(0.03);
    expect(Math.abs(mean((r) => r.before.gap)), `without the audits' say (${report})`).toBeLessThan(0.03);
    expect(mean((r) => r.before.ece), `ECE without the audits' say (${report})`).toBeLessThan(0.045);
    expect(mean((r) => r.shown.ece), `ECE with it (${report})`).toBeLessThan(0.06);
  }, 120_000);
});

describe('auditTemperatureWeights', () => {
  it('gives the prior (all labels, pool-weighted) the weight of priorLabels labels and each audit label one more', () => {
    const audit = Uint8Array.from([1, 0, 0, 1, 0]);
    const judgeable = Uint8Array.from([1, 1, 1, 1, 0]);
    const shift = Float64Array.from([1, 2, 1, 0.5, 3]);
    const w = auditTemperatureWeights(audit, judgeable, shift, { priorLabels: 9 })!;
    // Prior mass 9 spread as the shift weights of the judgeable rows (sum 4.5): 2 per unit.
    expect(Array.from(w.weights)).toEqual([3, 4, 2, 2, 0]);
    expect(w.audits).toBe(2);
    expect(auditTemperatureWeights(undefined, judgeable, shift)).toBeUndefined();
    expect(auditTemperatureWeights(Uint8Array.from([0, 0, 0, 0, 1]), judgeable, shift), 'the only audit label cannot be judged').toBeUndefined();
  });
});
