import { describe, expect, it } from 'vitest';
import { embeddingsFromVectors } from '../../functions/domain/learning/embeddings.js';
import { scoreAll } from '../../functions/domain/learning/scoring.js';
import { trainSoftmax } from '../../functions/domain/learning/train.js';
import { argmax, blobs, hardLabels, oneHot } from './synthetic.js';

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

function accuracyOn(b: ReturnType<typeof blobs>, rows: number[], probs: Float32Array, C: number): number {
  return rows.filter((r) => argmax(probs, r * C, C) === b.labels[r]).length / rows.length;
}

describe('trainSoftmax', () => {
  it('separates well-separated clusters, binary and many-class, on held-out points', () => {
    for (const C of [2, 10]) {
      const b = blobs(C, 60, 64, 0.08, C);
      const train = range(b.labels.length).filter((r) => r % 3 !== 0);
      const test = range(b.labels.length).filter((r) => r % 3 === 0);
      const model = trainSoftmax(b.embeddings, hardLabels(b.labels, train, C), { classes: C })!;
      expect(accuracyOn(b, test, scoreAll(model, b.embeddings), C)).toBeGreaterThan(0.95);
    }
  });

  it('learns a 0.75 / 0.25 label as those probabilities on a point labeled that way several times', () => {
    const dim = 8;
    const e = (axis: number, jitter: number) => Float32Array.from({ length: dim }, (_, d) => (d === axis ? 1 : 0) + (d === 7 ? jitter : 0));
    const vectors = [...range(20).map((i) => e(0, i * 0.01)), ...range(20).map((i) => e(1, i * 0.01)), ...range(6).map(() => e(2, 0))];
    const labels = [
      ...range(20).map((row) => ({ row, confidences: [1, 0] })),
      ...range(20, 20).map((row) => ({ row, confidences: [0, 1] })),
      ...range(6, 40).map((row) => ({ row, confidences: [0.75, 0.25] })),
    ];
    const embeddings = embeddingsFromVectors(vectors);
    const model = trainSoftmax(embeddings, labels, { classes: 2, lambda: 1e-4, balanceClasses: false })!;
    const p = scoreAll(model, embeddings, 40, 41);
    expect(p[0]).toBeCloseTo(0.75, 1);
    expect(p[1]).toBeCloseTo(0.25, 1);
  });

  it('keeps ambiguous labels out of training but counts them', () => {
    const b = blobs(2, 20, 16, 0.05);
    const labels = hardLabels(b.labels, range(40), 2);
    // Ambiguous samples carrying the wrong class must not pull the model.
    const withAmbiguous = [...labels, ...range(10).map((row) => ({ row, confidences: oneHot(1 - b.labels[row], 2), ambiguous: true }))];
    const plain = trainSoftmax(b.embeddings, labels, { classes: 2 })!;
    const model = trainSoftmax(b.embeddings, withAmbiguous, { classes: 2 })!;
    expect(model.fit.trainedOn).toBe(40);
    expect(model.fit.ambiguousExcluded).toBe(10);
    expect(Array.from(model.weights)).toEqual(Array.from(plain.weights));
  });

  it('is deterministic: the same labels give bit-identical weights', () => {
    const b = blobs(4, 30, 32, 0.2);
    const labels = hardLabels(b.labels, range(120), 4);
    const a = trainSoftmax(b.embeddings, labels, { classes: 4, lambda: 'cv', seed: 3 })!;
    const c = trainSoftmax(b.embeddings, labels, { classes: 4, lambda: 'cv', seed: 3 })!;
    expect(Buffer.from(a.weights.buffer).equals(Buffer.from(c.weights.buffer))).toBe(true);
    expect(Array.from(a.bias)).toEqual(Array.from(c.bias));
    expect(a.fit.crossValidation?.length).toBeGreaterThan(1);
  });

  it('converges in fewer iterations when warm-started from the previous fit', () => {
    const b = blobs(5, 80, 64, 0.25, 7);
    const first = hardLabels(b.labels, range(360), 5);
    const more = hardLabels(b.labels, range(400), 5);
    const previous = trainSoftmax(b.embeddings, first, { classes: 5, lambda: 1e-3 })!;
    const cold = trainSoftmax(b.embeddings, more, { classes: 5, lambda: 1e-3 })!;
    const warm = trainSoftmax(b.embeddings, more, { classes: 5, lambda: 1e-3, warmStart: previous })!;
    expect(warm.fit.warmStarted).toBe(true);
    expect(warm.fit.iterations).toBeLessThan(cold.fit.iterations);
    expect(Math.abs(warm.fit.loss - cold.fit.loss)).toBeLessThan(1e-3);
  });

  it('gives classes nobody labeled yet a probability near zero, and needs two labeled classes to train', () => {
    const b = blobs(3, 20, 16, 0.05);
    const twoClasses = hardLabels(b.labels, range(60).filter((r) => b.labels[r] !== 2), 3);
    const model = trainSoftmax(b.embeddings, twoClasses, { classes: 3 })!;
    const p = scoreAll(model, b.embeddings);
    expect(Math.max(...range(60).map((r) => p[r * 3 + 2]))).toBeLessThan(1e-6);
    const oneClass = hardLabels(b.labels, range(60).filter((r) => b.labels[r] === 0), 3);
    expect(trainSoftmax(b.embeddings, oneClass, { classes: 3 })).toBeUndefined();
  });

  it('weighs a rare class up so its samples are not drowned by the common one', () => {
    const b = blobs(2, 200, 16, 0.45, 11);
    const rows = range(400).filter((r) => b.labels[r] === 0 || r < 30); // 200 common, 15 rare
    const labels = hardLabels(b.labels, rows, 2);
    const rare = range(400).filter((r) => b.labels[r] === 1 && r >= 30);
    const recall = (balanceClasses: boolean) => {
      const p = scoreAll(trainSoftmax(b.embeddings, labels, { classes: 2, balanceClasses })!, b.embeddings);
      return rare.filter((r) => argmax(p, r * 2, 2) === 1).length / rare.length;
    };
    const balanced = trainSoftmax(b.embeddings, labels, { classes: 2 })!;
    expect(balanced.fit.classWeights[1]).toBeGreaterThan(balanced.fit.classWeights[0]);
    expect(recall(true)).toBeGreaterThan(recall(false));
  });
});
