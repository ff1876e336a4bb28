// Calibration on real photos: tf_flowers_dev (../shared) embedded by the real MobileNetV2 features model, the
// dataset's own test split held out. Today's fit (fixed penalty on uncentred rows) is far too unsure of itself;
// the calibrated fit must say "80%" when it is right 80% of the time.

import { beforeAll, describe, expect, it } from 'vitest';
import { fitTemperature, shiftWeights } from '../../functions/domain/learning/calibration.js';
import { createRng } from '../../functions/domain/learning/random.js';
import { scoreAll } from '../../functions/domain/learning/scoring.js';
import { trainCalibrated, trainSoftmax } from '../../functions/domain/learning/train.js';
import type { Task } from '../bench/lib/al-simulation.js';
import { flowersTask, testSetStats } from './flowers-task.js';
import { oneHot, unit } from './synthetic.js';
import { embeddingsFromVectors } from '../../functions/domain/learning/embeddings.js';

let task: Task;

beforeAll(async () => {
  task = await flowersTask();
}, 120_000);

const stats = (probs: Float32Array) => testSetStats(task, probs);

describe('calibrated training on tf_flowers_dev', () => {
  it('turns flat probabilities into calibrated ones at 50, 100 and 200 labels, without losing accuracy', () => {
    for (const budget of [50, 100, 200]) {
      // Three random label sets per budget (200 test images make one ECE figure noisy: ~0.03 for a perfect model).
      const runs = [1, 2, 3].map((seed) => {
        const rng = createRng(budget * 10 + seed);
        const rows = [...Array(task.pool.rows).keys()].map((r) => ({ r, k: rng.next() })).sort((a, b) => a.k - b.k).slice(0, budget).map((x) => x.r);
        const labels = rows.map((row) => ({ row, confidences: oneHot(task.poolLabels[row], task.classes) }));
        const before = stats(scoreAll(trainSoftmax(task.pool, labels, { classes: task.classes, lambda: 'auto' })!, task.test));
        const model = trainSoftmax(task.pool, labels, { classes: task.classes })!;
        expect(model.fit.calibration, `${budget} labels`).toBeDefined();
        expect(model.fit.centered).toBe(true);
        return { before, after: stats(scoreAll(model, task.test)) };
      });
      const mean = (f: (r: (typeof runs)[number]) => number) => runs.reduce((a, r) => a + f(r), 0) / runs.length;
      // Before: ECE ~0.4, the model says ~45% when it is right ~80% of the time.
      expect(mean((r) => r.before.ece), `${budget} labels: uncalibrated ECE`).toBeGreaterThan(0.2);
      // 200 test images leave ~0.04-0.05 of ECE to sampling noise alone (the floor: a perfectly calibrated model with
      // the same confidences); the fit must come within 3.5 points of it (measured: 0.076 vs 0.046 at 50 labels).
      expect(mean((r) => r.after.ece), `${budget} labels: ECE`).toBeLessThan(mean((r) => r.after.floor) + 0.035);
      expect(Math.abs(mean((r) => r.after.meanTop - r.after.accuracy)), `${budget} labels: mean top probability vs accuracy`).toBeLessThan(0.05);
      expect(mean((r) => r.after.accuracy), `${budget} labels: accuracy`).toBeGreaterThanOrEqual(mean((r) => r.before.accuracy) - 0.01);
    }
  }, 60_000);

  it('gives every label an out-of-fold prediction from a model that never saw it', () => {
    const rows = [...Array(100).keys()].map((i) => i * 7);
    const labels = rows.map((row) => ({ row, confidences: oneHot(task.poolLabels[row], task.classes) }));
    labels.push({ row: 5, confidences: oneHot(0, task.classes), ambiguous: true } as never);
    const fit = trainCalibrated(task.pool, labels, { classes: task.classes })!;
    expect(fit.labelIndex.length).toBe(100); // the ambiguous label is left out
    expect(Array.from(fit.labelIndex)).toEqual([...Array(100).keys()]);
    expect(new Set(fit.outOfFold.fold).size).toBe(5);
    const C = task.classes;
    for (let k = 0; k < 100; k++) {
      const p = Array.from(fit.outOfFold.probs.subarray(k * C, (k + 1) * C));
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    }
    // Out-of-fold accuracy is a held-out accuracy: well below the 100% a model scores on its own training labels.
    const right = [...Array(100).keys()].filter((k) => {
      const p = fit.outOfFold.probs.subarray(k * C, (k + 1) * C);
      return p.indexOf(Math.max(...p)) === task.poolLabels[rows[k]];
    }).length;
    expect(right).toBeLessThan(97);
    expect(right).toBeGreaterThan(60);
  });
});

describe('labels picked the way active learning picks them', () => {
  /** 20 random labels, then the 80 rows the model trained on them is least sure of (smallest margin), as served. */
  function hardLabels(seed: number) {
    const C = task.classes;
    const rng = createRng(seed);
    const order = [...Array(task.pool.rows).keys()].map((r) => ({ r, k: rng.next() })).sort((a, b) => a.k - b.k).map((x) => x.r);
    const rows = order.slice(0, 20);
    const first = trainSoftmax(task.pool, rows.map((row) => ({ row, confidences: oneHot(task.poolLabels[row], C) })), { classes: C })!;
    const p = scoreAll(first, task.pool);
    const margin = (r: number) => {
      const q = Array.from(p.subarray(r * C, (r + 1) * C)).sort((a, b) => b - a);
      return q[0] - q[1];
    };
    const taken = new Set(rows);
    rows.push(...order.filter((r) => !taken.has(r)).sort((a, b) => margin(a) - margin(b)).slice(0, 80));
    return rows.map((row) => ({ row, confidences: oneHot(task.poolLabels[row], C) }));
  }

  it('are the hard cases, yet the probabilities stay calibrated on the rest of the collection', () => {
    const runs = [1, 2, 3, 4].map((seed) => {
      const labels = hardLabels(seed);
      const corrected = stats(scoreAll(trainSoftmax(task.pool, labels, { classes: task.classes })!, task.test));
      const plain = stats(scoreAll(trainSoftmax(task.pool, labels, { classes: task.classes, calibration: { shiftCorrection: false } })!, task.test));
      return { corrected: corrected.meanTop - corrected.accuracy, plain: plain.meanTop - plain.accuracy };
    });
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const corrected = mean(runs.map((r) => r.corrected));
    const plain = mean(runs.map((r) => r.plain));
    // With the fold models' penalty per label (calibration.ts foldPenalty), the temperature fitted on these hard
    // cases no longer leaves the model unsure of itself here, corrected or not (4 seeds: +2.0 corrected, -0.0 not);
    // over whole sessions in served order the shift correction is still what keeps it so (bench:al --shift off:
    // 6-7 points under at 120-250 labels).
    const report = `corrected ${(corrected * 100).toFixed(1)} / uncorrected ${(plain * 100).toFixed(1)} points`;
    expect(Math.abs(corrected), `corrected: mean top probability - accuracy (${report})`).toBeLessThan(0.03);
    expect(Math.abs(plain), `uncorrected (${report})`).toBeLessThan(0.03);
  }, 60_000);

  it('are weighted by how much of the pool they stand for', () => {
    // Two groups: A is 90% of the pool, B 10%; the labels are half A, half B. A label of A stands for ~9 times more.
    const rng = createRng(11);
    const around = (c: number) => unit(Float32Array.from({ length: 16 }, (_, d) => (d === c ? 3 : 0) + rng.normal()));
    const vectors = [...Array(900).keys()].map(() => around(0)).concat([...Array(100).keys()].map(() => around(1)));
    const e = embeddingsFromVectors(vectors);
    const labeled = [...Array(40).keys()].map((i) => i * 20).concat([...Array(40).keys()].map((i) => 900 + i * 2));
    const w = shiftWeights(e, labeled, { lambda: 0.01 })!;
    const meanOf = (from: number, to: number) => Array.from(w.weights.subarray(from, to)).reduce((a, b) => a + b, 0) / (to - from);
    const ratio = meanOf(0, 40) / meanOf(40, 80);
    expect(ratio).toBeGreaterThan(4);
    expect(ratio).toBeLessThan(20);
    expect(w.effectiveSize).toBeLessThan(80);
    expect(w.effectiveSize).toBeGreaterThan(20);
  });
});

describe('temperature', () => {
  it('recovers the temperature that generated the labels', () => {
    // Logits z, labels drawn from softmax(z / 2): the fitted temperature is ~2.
    const rng = createRng(3);
    const C = 4;
    const n = 4000;
    const logp = new Float64Array(n * C);
    const targets = new Float64Array(n * C);
    for (let i = 0; i < n; i++) {
      const z = Array.from({ length: C }, () => 4 * rng.normal());
      const p = z.map((v) => Math.exp(v / 2));
      const s = p.reduce((a, b) => a + b, 0);
      let u = rng.next() * s;
      let y = 0;
      while (u > p[y] && y < C - 1) u -= p[y++];
      z.forEach((v, c) => (logp[i * C + c] = v));
      targets[i * C + y] = 1;
    }
    expect(fitTemperature(logp, targets, C).temperature).toBeGreaterThan(1.8);
    expect(fitTemperature(logp, targets, C).temperature).toBeLessThan(2.2);
  });
});
