// Auto-labeling's certified threshold, carried from the fold models (whose held-out predictions certify it) to the
// final model (which labels the pool): the final model labels the share of the pool the fold models would have, and
// never below the certified threshold.

import { describe, expect, it } from 'vitest';
import { carriedThreshold, finalModelThresholds, NOTHING } from '../../functions/domain/learning/coverage-threshold.js';
import { scoreAll } from '../../functions/domain/learning/scoring.js';
import { THRESHOLD_GRID } from '../../functions/domain/learning/precision-bound.js';
import type { SoftmaxModel } from '../../functions/domain/learning/softmax.js';
import { trainCalibrated } from '../../functions/domain/learning/train.js';
import { blobs, hardLabels } from './synthetic.js';

const C = 4;
const data = blobs(C, 300, 24, 0.45, 7);
const labeledRows = Array.from({ length: 120 }, (_, i) => i * 10);
const unlabeled = Array.from({ length: data.labels.length }, (_, r) => r).filter((r) => r % 10 !== 0);
const labeledMask = Uint8Array.from({ length: data.labels.length }, (_, r) => (r % 10 === 0 ? 1 : 0));
/** Only row `keep` unlabeled. */
const allLabeledBut = (keep: number) => Uint8Array.from({ length: data.labels.length }, (_, r) => (r === keep ? 0 : 1));
const fit = trainCalibrated(data.embeddings, hardLabels(data.labels, labeledRows, C), { classes: C, seed: 1 })!;

/** A copy of `model` whose logits are `factor` times larger (surer of itself). */
function sharpened(model: SoftmaxModel, factor: number): SoftmaxModel {
  return { ...model, weights: model.weights.map((w) => w * factor), bias: model.bias.map((b) => b * factor) };
}

/** Share of `rows` whose top probability under `probs` is at least `t`. */
function share(probs: Float32Array, rows: number[], t: number): number {
  let n = 0;
  for (const r of rows) if (Math.max(...probs.subarray(r * C, (r + 1) * C)) >= t) n++;
  return n / rows.length;
}

/** Share of `rows` the fold models label at `t`, each row by one fold model in turn (as the function samples them). */
function foldShare(rows: number[], t: number): number {
  const models = fit.foldModels.filter((m) => m !== undefined);
  let n = 0;
  rows.forEach((r, j) => {
    const p = scoreAll(models[j % models.length], { kind: 'f32', rows: 1, dim: data.embeddings.dim, data: data.embeddings.data.subarray(r * data.embeddings.dim, (r + 1) * data.embeddings.dim) });
    if (Math.max(...p) >= t) n++;
  });
  return n / rows.length;
}

describe('the certified threshold on the final model', () => {
  it('exposes the fold models that made the held-out predictions', () => {
    expect(fit.foldModels.filter((m) => m !== undefined).length).toBe(fit.calibration.folds);
  });

  it('labels the share of the pool the fold models would have, never below the certified threshold', () => {
    // A final model much surer of itself than its fold models: the same number would admit far more of the pool.
    const surer = scoreAll(sharpened(fit.model, 1.5), data.embeddings);
    const thresholds = finalModelThresholds({ ...fit, model: sharpened(fit.model, 1.5) }, data.embeddings, surer, labeledMask);
    expect(thresholds).toHaveLength(THRESHOLD_GRID.length);
    let raised = 0;
    THRESHOLD_GRID.forEach((t, i) => {
      const cut = thresholds[i];
      expect(cut).toBeGreaterThanOrEqual(t);
      if (cut === NOTHING) {
        expect(foldShare(unlabeled, t)).toBe(0);
        return;
      }
      if (cut > t) raised++;
      // The whole pool is the sample here (fewer rows than COVERAGE_SAMPLE): the shares match to the row.
      expect(Math.abs(share(surer, unlabeled, cut) - foldShare(unlabeled, t))).toBeLessThanOrEqual(1 / unlabeled.length + 1e-9);
      // Never more than the plain threshold would have labeled.
      expect(share(surer, unlabeled, cut)).toBeLessThanOrEqual(share(surer, unlabeled, t));
    });
    expect(raised, 'a surer final model gets higher thresholds').toBeGreaterThan(THRESHOLD_GRID.length / 4);
  });

  it('keeps the certified threshold for a final model less sure than its folds', () => {
    const unsure = sharpened(fit.model, 0.3);
    const probs = scoreAll(unsure, data.embeddings);
    const thresholds = finalModelThresholds({ ...fit, model: unsure }, data.embeddings, probs, labeledMask);
    THRESHOLD_GRID.forEach((t, i) => {
      if (thresholds[i] === NOTHING) return;
      expect(thresholds[i]).toBeGreaterThanOrEqual(t);
      // It labels no more than the fold models would have at the certified threshold.
      expect(share(probs, unlabeled, thresholds[i])).toBeLessThanOrEqual(foldShare(unlabeled, t) + 1e-9);
    });
  });

  it('applies a threshold as it is where no carried one was recorded', () => {
    expect(carriedThreshold(0.98, undefined)).toBe(0.98);
    const carried = THRESHOLD_GRID.map((t) => Math.min(1, t + 0.001));
    expect(carriedThreshold(0.98, carried)).toBe(carried[THRESHOLD_GRID.indexOf(0.98)]);
    expect(carriedThreshold(0.9812, carried), 'not a grid threshold').toBe(0.9812);
  });
});

describe('the certified threshold on a nearly finished project', () => {
  it('is carried with one or no unlabeled image left', () => {
    const probs = scoreAll(fit.model, data.embeddings);
    const none = finalModelThresholds(fit, data.embeddings, probs, new Uint8Array(data.labels.length).fill(1));
    expect(none).toEqual([...THRESHOLD_GRID]);
    const one = finalModelThresholds(fit, data.embeddings, probs, allLabeledBut(unlabeled[0]));
    expect(one).toHaveLength(THRESHOLD_GRID.length);
    THRESHOLD_GRID.forEach((t, i) => expect(one[i]).toBeGreaterThanOrEqual(t));
  });
});
