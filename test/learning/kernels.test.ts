import { describe, expect, it } from 'vitest';
import { dotAll, embeddingsFromVectors, float16ToFloat32, quantizeEmbeddings, rowInto } from '../../functions/domain/learning/embeddings.js';
import { createRng } from '../../functions/domain/learning/random.js';
import { topK } from '../../functions/domain/learning/select.js';
import { withResidentRows } from '../../functions/domain/learning/wasm/kernels.js';

const rng = createRng(42);
const randomMatrix = (n: number) => Float32Array.from({ length: n }, () => rng.normal());

describe('SIMD kernels', () => {
  it('match plain JS dot products for fp32 and int8 rows, at dims that need padding', () => {
    for (const dim of [3, 16, 37]) {
      const n = 50;
      const k = 4;
      const e = embeddingsFromVectors(Array.from({ length: n }, () => randomMatrix(dim)));
      const w = randomMatrix(k * dim);
      const out = dotAll(e, w, k, new Float32Array(n * k));
      const q = quantizeEmbeddings(e);
      const outQ = dotAll(q, w, k, new Float32Array(n * k));
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < k; j++) {
          let s = 0;
          for (let d = 0; d < dim; d++) s += e.data[i * dim + d] * w[j * dim + d];
          expect(out[i * k + j]).toBeCloseTo(s, 4);
          expect(Math.abs(outQ[i * k + j] - s)).toBeLessThan(0.02 * Math.sqrt(dim));
        }
      }
    }
  });

  it('accumulate the gradient outer product like plain JS', () => {
    const n = 33;
    const dim = 21;
    const k = 3;
    const x = randomMatrix(n * dim);
    const r = randomMatrix(n * k);
    const g = new Float32Array(k * dim);
    withResidentRows(x, n, dim, (rows) => rows.outer(r, k, g));
    for (let j = 0; j < k; j++) {
      for (let d = 0; d < dim; d++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += r[i * k + j] * x[i * dim + d];
        expect(g[j * dim + d]).toBeCloseTo(s, 4);
      }
    }
  });
});

describe('embeddings', () => {
  it('keeps int8 rows within 1% of the normalised fp32 rows', () => {
    const e = embeddingsFromVectors([Float32Array.from([3, 4, 0, 0]), randomMatrix(4)]);
    expect(Array.from(e.data.subarray(0, 4))).toEqual([0.6, 0.8, 0, 0].map((v) => expect.closeTo(v, 6)));
    const row = rowInto(quantizeEmbeddings(e), 0, new Float32Array(4));
    row.forEach((v, d) => expect(Math.abs(v - e.data[d])).toBeLessThan(0.01));
  });

  it('decodes half floats', () => {
    expect(Array.from(float16ToFloat32(Uint16Array.from([0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00])))).toEqual([
      1,
      -2,
      expect.closeTo(0.33325, 5),
      2 ** -24,
      Infinity,
    ]);
  });

  it('selects the top k scores in order, breaking ties by lower index', () => {
    const scores = Float32Array.from([0.1, 0.9, 0.5, 0.9, 0.3, NaN, 0.7]);
    expect(Array.from(topK(scores, 3))).toEqual([1, 3, 6]);
    expect(Array.from(topK(scores, 2, [0, 2, 4]))).toEqual([2, 4]);
    expect(Array.from(topK(scores, 10)).length).toBe(6);
  });
});
