import { describe, expect, it } from 'vitest';
import { quantizeEmbeddings } from '../../functions/domain/learning/embeddings.js';
import { poolNeighbours } from '../../functions/domain/learning/neighbours.js';
import { createRng } from '../../functions/domain/learning/random.js';
import { confidentLearningSuspects, likelyMislabeled, nearestNeighbours } from '../../functions/domain/learning/review.js';
import { trainCalibrated } from '../../functions/domain/learning/train.js';
import { blobs, hardLabels, oneHot } from './synthetic.js';

describe('likely mislabeled', () => {
  it('flags flipped labels (5+ of 6), with the class the model believes instead, and none of the correct ones', () => {
    const b = blobs(4, 40, 32, 0.2, 21);
    const rows = [...Array(160).keys()];
    const labels = hardLabels(b.labels, rows, 4);
    const flipped = [3, 17, 42, 77, 101, 150];
    for (const r of flipped) labels[r] = { row: r, confidences: hardLabels([(b.labels[r] + 1) % 4], [0], 4)[0].confidences };
    const suspects = likelyMislabeled(b.embeddings, labels, { classes: 4, seed: 1 });
    // Every flag is a flipped label, and at least 5 of the 6 are found.
    expect(suspects.every((s) => flipped.includes(s.row))).toBe(true);
    expect(suspects.length).toBeGreaterThanOrEqual(5);
    for (const s of suspects) {
      expect(s.predictedClass).toBe(b.labels[s.row]);
      expect(s.givenClass).toBe((b.labels[s.row] + 1) % 4);
      expect(s.givenProbability).toBeLessThan(0.1);
      expect(s.predictedProbability).toBeGreaterThanOrEqual(s.predictedThreshold);
    }
    // Most suspicious first.
    for (let i = 1; i < suspects.length; i++) expect(suspects[i].givenProbability).toBeGreaterThanOrEqual(suspects[i - 1].givenProbability);
  });

  it('flags nothing when every label is right', () => {
    const b = blobs(4, 40, 32, 0.2, 21);
    expect(likelyMislabeled(b.embeddings, hardLabels(b.labels, [...Array(160).keys()], 4), { classes: 4, seed: 1 })).toEqual([]);
  });

  it('flags a label whose class gets under the threshold, naming the most probable other class', () => {
    // 3 classes; label 1 given class 0 at 0.11 (flagged at the default 0.12), label 2 given 2 at 0.2 (kept).
    const probs = [0.8, 0.1, 0.1, 0.11, 0.3, 0.59, 0.5, 0.3, 0.2];
    const flagged = confidentLearningSuspects(probs, [0, 0, 2], 3);
    expect(flagged).toHaveLength(1);
    expect(flagged[0]).toMatchObject({ index: 1, givenClass: 0, predictedClass: 2 });
    expect(flagged[0].predictedProbability).toBeCloseTo(0.59);
    expect(confidentLearningSuspects(probs, [0, 0, 2], 3, { maxGivenProbability: 0.25 }).map((f) => f.index)).toEqual([1, 2]);
  });

  it('with per-class thresholds, a label is flagged only when another class passes its own mean self-confidence', () => {
    // 3 labels of class 0, 3 of class 1 (probabilities as the out-of-fold model gave them).
    const probs = [0.9, 0.1, 0.8, 0.2, 0.05, 0.95, 0.3, 0.7, 0.2, 0.8, 0.6, 0.4];
    const given = [0, 0, 0, 1, 1, 1];
    // Class 0 threshold = (0.9 + 0.8 + 0.05) / 3 = 0.583; class 1 = (0.7 + 0.8 + 0.4) / 3 = 0.633.
    const flagged = confidentLearningSuspects(probs, given, 2, { perClassThresholds: true, maxGivenProbability: 0.1 });
    expect(flagged.map((f) => f.index)).toEqual([2]);
    expect(flagged[0]).toMatchObject({ givenClass: 0, predictedClass: 1 });
    expect(flagged[0].givenProbability).toBeCloseTo(0.05);
    expect(flagged[0].predictedThreshold).toBeCloseTo(0.6333, 3);
    // Sample 5 (given 1, p(0) = 0.6 >= 0.583) is not flagged: its own class still has 0.4, not "low".
  });

  it('skips ambiguous labels', () => {
    const b = blobs(2, 20, 8, 0.1, 3);
    const labels = [...hardLabels(b.labels, [...Array(40).keys()], 2), { row: 0, confidences: [0, 1], ambiguous: true }];
    expect(likelyMislabeled(b.embeddings, labels, { classes: 2 }).some((s) => s.label === 40)).toBe(false);
  });
});

describe('mislabel signal smoothed over pool neighbours', () => {
  // Active learning labels the boundary: the labeled rows here are the 90 of 600 closest to a boundary between the
  // true centres, 9 of them flipped to another class at random, the rest of the pool unlabeled.
  function boundarySession(seed: number) {
    const b = blobs(3, 200, 16, 0.35, seed);
    const e = b.embeddings;
    const margin = [...Array(e.rows).keys()].map((r) => {
      const d = b.centers.map((c) => c.reduce((a, v, k) => a + v * e.data[r * 16 + k], 0)).sort((x, y) => y - x);
      return d[0] - d[1];
    });
    const rows = [...Array(e.rows).keys()].sort((x, y) => margin[x] - margin[y]).slice(0, 90);
    const rng = createRng(seed);
    const flip = new Set(rows.map((_, i) => i).sort(() => rng.next() - 0.5).slice(0, 9));
    const labels = hardLabels(b.labels, rows, 3).map((l, i) => (flip.has(i) ? { row: l.row, confidences: oneHot((b.labels[l.row] + 1 + rng.int(2)) % 3, 3) } : l));
    return { e, labels, flip, given: labels.map((l) => Array.from(l.confidences).indexOf(1)) };
  }
  /** Flipped labels under the threshold that lists 5% of the correct ones (the best a threshold on `p` can do there). */
  function caught(p: Float32Array, flip: Set<number>, given: number[]): number {
    const ok = given.map((_, i) => i).filter((i) => !flip.has(i)).map((i) => p[i * 3 + given[i]]).sort((x, y) => x - y);
    const t = ok[Math.floor(0.05 * ok.length)];
    return [...flip].filter((i) => p[i * 3 + given[i]] < t).length;
  }

  it('tells flipped boundary labels from correct ones better than the out-of-fold probability at the point alone', () => {
    let point = 0;
    let smoothed = 0;
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const s = boundarySession(seed);
      const fit = trainCalibrated(s.e, s.labels, { classes: 3, calibration: { smoothOutOfFold: true } })!;
      expect(fit.outOfFold.smoothed).toBeDefined();
      point += caught(fit.outOfFold.probs, s.flip, s.given);
      smoothed += caught(fit.outOfFold.smoothed!, s.flip, s.given);
    }
    // Measured: 35 of 72 at the point, 46 around it.
    expect(smoothed).toBeGreaterThanOrEqual(point + 6);
  });

  it('finds each labeled row\'s most similar rows of the pool, itself excluded, also when searching a sample', () => {
    const b = blobs(3, 50, 24, 0.3, 8);
    const e = b.embeddings;
    const [nb] = poolNeighbours(e, [10], { k: 5 });
    expect(Array.from(nb)).toEqual(nearestNeighbours(e, 10, 5).map((n) => n.row));
    // A 64-row sample (16 blocks of 4 evenly spaced rows): neighbours come from those blocks only.
    const [sampled] = poolNeighbours(e, [10], { k: 5, sample: 64 });
    expect(sampled).toHaveLength(5);
    for (const r of sampled) expect(r % Math.floor(150 / 16)).toBeLessThan(4);
    expect(Array.from(sampled)).not.toContain(10);
  });
});

describe('nearest neighbours', () => {
  it('returns the k most cosine-similar samples, best first, without the query itself', () => {
    const b = blobs(3, 50, 24, 0.3, 8);
    const e = b.embeddings;
    const q = 10;
    const brute = [...Array(e.rows).keys()]
      .filter((r) => r !== q)
      .map((r) => ({ r, s: e.data.subarray(r * 24, r * 24 + 24).reduce((acc, v, d) => acc + v * e.data[q * 24 + d], 0) }))
      .sort((a, c) => c.s - a.s)
      .slice(0, 5);
    const nn = nearestNeighbours(e, q, 5);
    expect(nn.map((n) => n.row)).toEqual(brute.map((x) => x.r));
    nn.forEach((n, i) => expect(n.similarity).toBeCloseTo(brute[i].s, 5));
    expect(nearestNeighbours(e, q, 5, { exclude: [nn[0].row] }).map((n) => n.row)).not.toContain(nn[0].row);
  });

  it('finds the same neighbours on the compact int8 matrix', () => {
    const b = blobs(3, 50, 64, 0.3, 8);
    const exact = nearestNeighbours(b.embeddings, 7, 5).map((n) => n.row);
    const compact = nearestNeighbours(quantizeEmbeddings(b.embeddings), 7, 5).map((n) => n.row);
    expect(compact.filter((r) => exact.includes(r)).length).toBeGreaterThanOrEqual(4);
  });
});
