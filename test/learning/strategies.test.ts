import { describe, expect, it } from 'vitest';
import { embeddingsFromVectors } from '../../functions/domain/learning/embeddings.js';
import { kmeans } from '../../functions/domain/learning/kmeans.js';
import { DEFAULT_STRATEGY, rank, STRATEGIES } from '../../functions/domain/learning/strategies.js';
import { trainSoftmax } from '../../functions/domain/learning/train.js';
import { originScore } from '../../functions/domain/learning/uncertainty.js';
import { blobs, hardLabels } from './synthetic.js';

describe('origin score', () => {
  it('is (1 - p(c_max)) / (A(c_max) + 1) exactly', () => {
    const probs = Float32Array.from([0.7, 0.2, 0.1, 0.4, 0.5, 0.1, 0.34, 0.33, 0.33]);
    const s = originScore(probs, 3, [3, 1, 0]);
    expect(s[0]).toBeCloseTo((1 - 0.7) / (3 + 1), 6); // 0.075
    expect(s[1]).toBeCloseTo((1 - 0.5) / (1 + 1), 6); // 0.25
    expect(s[2]).toBeCloseTo((1 - 0.34) / (3 + 1), 6); // 0.165
  });

  it('ranks by that score: a confident sample of a rare class can precede an uncertain one of a common class', () => {
    // 1-d-like setup: two classes along axis 0/1; class 0 has many labels, class 1 few.
    const b = blobs(2, 30, 8, 0.3, 5);
    const labels = hardLabels(b.labels, [...Array(60).keys()].filter((r) => r < 40 && (b.labels[r] === 0 || r < 6)), 2);
    const model = trainSoftmax(b.embeddings, labels, { classes: 2 })!;
    const counts = [labels.filter((l) => l.confidences[0] === 1).length, labels.filter((l) => l.confidences[1] === 1).length];
    const ranking = rank('origin', { embeddings: b.embeddings, labeled: labels.map((l) => l.row), model, annotationsPerClass: counts });
    const expected = originScore(ranking.probs!, 2, counts);
    for (let k = 1; k < ranking.rows.length; k++) expect(expected[k - 1]).toBeGreaterThanOrEqual(expected[k]);
  });
});

describe('rank', () => {
  it('margin serves the sample closest to the decision boundary first', () => {
    // Points on a line between two class centres; the middle one is the most uncertain.
    const vectors = [-1, -0.8, -0.6, -0.05, 0.3, 0.6, 0.8, 1].map((t) => [1, t, 0.2]);
    const e = embeddingsFromVectors(vectors);
    const model = trainSoftmax(e, [{ row: 0, confidences: [1, 0] }, { row: 1, confidences: [1, 0] }, { row: 6, confidences: [0, 1] }, { row: 7, confidences: [0, 1] }], { classes: 2 })!;
    const ranking = rank('margin', { embeddings: e, labeled: [0, 1, 6, 7], model });
    expect(ranking.rows[0]).toBe(3);
    expect(Array.from(ranking.rows).sort()).toEqual([2, 3, 4, 5]);
  });

  it('cold start (no model) picks representatives of every cluster among its first picks', () => {
    const b = blobs(6, 50, 32, 0.1, 9);
    const ranking = rank(DEFAULT_STRATEGY, { embeddings: b.embeddings, labeled: [], annotationsPerClass: new Array(6).fill(0), limit: 12 });
    expect(ranking.coldStart).toBe(true);
    const firstClasses = new Set(Array.from(ranking.rows.slice(0, 12), (r) => b.labels[r]));
    expect(firstClasses.size).toBe(6);
  });

  it('with one class labeled, cold start goes to the clusters that have no labels first', () => {
    const b = blobs(3, 40, 32, 0.1, 4);
    const labeled = [...Array(120).keys()].filter((r) => b.labels[r] === 0).slice(0, 5);
    const ranking = rank('margin', { embeddings: b.embeddings, labeled, annotationsPerClass: [5, 0, 0], limit: 4 });
    expect(ranking.coldStart).toBe(true);
    expect(Array.from(ranking.rows.slice(0, 2), (r) => b.labels[r]).sort()).toEqual([1, 2]);
  });

  it('never ranks labeled samples, is reproducible per seed, and returns probabilities for each ranked sample', () => {
    const b = blobs(3, 40, 16, 0.3, 2);
    const labeledRows = [0, 1, 2, 3, 4, 5];
    const model = trainSoftmax(b.embeddings, hardLabels(b.labels, labeledRows, 3), { classes: 3 })!;
    for (const strategy of STRATEGIES) {
      const input = { embeddings: b.embeddings, labeled: labeledRows, model, annotationsPerClass: [2, 2, 2], limit: 50, seed: 7 };
      const a = rank(strategy, input);
      expect(a.rows.length).toBe(50);
      expect(a.rows.some((r) => labeledRows.includes(r))).toBe(false);
      expect(new Set(a.rows).size).toBe(50);
      expect(a.probs!.length).toBe(150);
      expect(Array.from(rank(strategy, input).rows)).toEqual(Array.from(a.rows));
    }
    const other = rank('random', { embeddings: b.embeddings, labeled: labeledRows, model, limit: 50, seed: 8 });
    expect(Array.from(other.rows)).not.toEqual(Array.from(rank('random', { embeddings: b.embeddings, labeled: labeledRows, model, limit: 50, seed: 7 }).rows));
  });

  it('cluster-margin spreads its first picks over clusters where plain margin piles into one', () => {
    // One tight, very uncertain clump (many near-duplicates) and a few uncertain points elsewhere.
    const b = blobs(2, 100, 16, 0.15, 12);
    const vectors: number[][] = [];
    for (let r = 0; r < 200; r++) vectors.push(Array.from(b.embeddings.data.subarray(r * 16, (r + 1) * 16)));
    const mid = b.centers[0].map((v, d) => (v + b.centers[1][d]) / 2);
    for (let i = 0; i < 40; i++) vectors.push(Array.from(mid, (v, d) => v + (d === 0 ? 0.001 * i : 0)));
    const e = embeddingsFromVectors(vectors);
    const labeled = [0, 1, 2, 3, 4, 5, 6, 7];
    const model = trainSoftmax(e, hardLabels(b.labels, labeled, 2), { classes: 2 })!;
    const clustering = kmeans(e, { k: 10, seed: 1 });
    const clumpShare = (strategy: 'margin' | 'cluster-margin') =>
      Array.from(rank(strategy, { embeddings: e, labeled, model, clustering, limit: 10, batchSize: 10 }).rows).filter((r) => r >= 200).length / 10;
    expect(clumpShare('margin')).toBeGreaterThan(0.5);
    expect(clumpShare('cluster-margin')).toBeLessThan(clumpShare('margin'));
  });
});

describe('typical-cluster-margin (the default)', () => {
  it('serves representative samples while labels are few, then the most uncertain ones', () => {
    const b = blobs(2, 60, 16, 0.35, 14);
    const labeledFew = [0, 1, 2, 3]; // < 5 per class
    const few = trainSoftmax(b.embeddings, hardLabels(b.labels, labeledFew, 2), { classes: 2 })!;
    const clustering = kmeans(b.embeddings, { k: 8, seed: 1 });
    const early = rank('typical-cluster-margin', { embeddings: b.embeddings, labeled: labeledFew, model: few, clustering, limit: 8 });
    const representative = rank('typical-cluster-margin', { embeddings: b.embeddings, labeled: labeledFew, clustering, limit: 8 });
    expect(Array.from(early.rows)).toEqual(Array.from(representative.rows));
    expect(early.coldStart).toBe(false);
    expect(early.probs!.length).toBe(16); // suggestions and live error still get the model's probabilities

    const labeledMany = [...Array(30).keys()];
    const many = trainSoftmax(b.embeddings, hardLabels(b.labels, labeledMany, 2), { classes: 2 })!;
    const later = rank('typical-cluster-margin', { embeddings: b.embeddings, labeled: labeledMany, model: many, clustering, limit: 8, batchSize: 8 });
    const margin = rank('margin', { embeddings: b.embeddings, labeled: labeledMany, model: many, limit: 1 });
    expect(later.rows[0]).toBe(margin.rows[0]);
  });
});
