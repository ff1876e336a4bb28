import { describe, expect, it } from 'vitest';
import { quantizeEmbeddings } from '../../functions/domain/learning/embeddings.js';
import { likelyMislabeled, nearestNeighbours } from '../../functions/domain/learning/review.js';
import { blobs, hardLabels } from './synthetic.js';

describe('likely mislabeled', () => {
  it('puts flipped labels at the top of the list', () => {
    const b = blobs(4, 40, 32, 0.2, 21);
    const rows = [...Array(160).keys()];
    const labels = hardLabels(b.labels, rows, 4);
    const flipped = [3, 17, 42, 77, 101, 150];
    for (const r of flipped) labels[r] = { row: r, confidences: hardLabels([(b.labels[r] + 1) % 4], [0], 4)[0].confidences };
    const suspects = likelyMislabeled(b.embeddings, labels, { classes: 4, seed: 1 });
    expect(suspects.length).toBe(160);
    expect(new Set(suspects.slice(0, flipped.length).map((s) => s.row))).toEqual(new Set(flipped));
    for (const s of suspects.slice(0, flipped.length)) expect(s.predictedClass).toBe(b.labels[s.row]);
    expect(suspects[0].givenProbability).toBeLessThan(0.5);
  });

  it('skips ambiguous labels', () => {
    const b = blobs(2, 20, 8, 0.1, 3);
    const labels = [...hardLabels(b.labels, [...Array(40).keys()], 2), { row: 0, confidences: [0, 1], ambiguous: true }];
    expect(likelyMislabeled(b.embeddings, labels, { classes: 2 }).some((s) => s.label === 40)).toBe(false);
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
