// YOLOX decoding on hand-made head outputs, where the right boxes can be worked out on paper.

import { beforeAll, expect, it } from 'vitest';
import { loadManifest, type YoloxOutput } from '../../functions/vision/manifest.js';
import { decodeYolox } from '../../functions/vision/yolox.js';

let spec: YoloxOutput;
const labels = Array.from({ length: 80 }, (_, i) => `class${i}`);
const ROWS = 52 * 52 + 26 * 26 + 13 * 13;

beforeAll(async () => {
  spec = (await loadManifest('yolox-nano')).outputs[0] as YoloxOutput;
});

/** Row index of grid cell (gx, gy) at a stride: stride 8 rows first, then 16, then 32, row-major. */
const rowOf = (stride: number, gx: number, gy: number) =>
  ({ 8: 0, 16: 52 * 52, 32: 52 * 52 + 26 * 26 })[stride]! + gy * (416 / stride) + gx;

function head(anchors: { stride: number; gx: number; gy: number; t: [number, number, number, number]; obj: number; cls: number; p: number }[]) {
  const out = new Float32Array(ROWS * 85);
  for (const a of anchors) {
    const at = rowOf(a.stride, a.gx, a.gy) * 85;
    out.set(a.t, at);
    out[at + 4] = a.obj;
    out[at + 5 + a.cls] = a.p;
  }
  return out;
}

const opts = { scoreThreshold: 0.3, iouThreshold: 0.45, maxDetections: 50 };
// Letterboxed from a 832x624 image: every tensor pixel is 2 original pixels.
const tensor = { side: 416, toOriginal: { scaleX: 2, scaleY: 2, offsetX: 0, offsetY: 0 } };
const image = { width: 832, height: 624 };

it('decodes grid offset, stride and size, and maps back to original pixels', () => {
  // Cell (2, 1) of the stride-32 grid, offset (0.5, 0.5), size exp(0) * 32: centre (80, 48) -> [64, 32, 96, 64].
  const out = head([{ stride: 32, gx: 2, gy: 1, t: [0.5, 0.5, 0, 0], obj: 0.9, cls: 16, p: 0.8 }]);
  const [d] = decodeYolox(out, spec, labels, tensor, image, opts);
  expect(d).toMatchObject({ box: [128, 64, 192, 128], classIndex: 16, name: 'class16' });
  expect(d.score).toBeCloseTo(0.72, 6);
});

it('score is objectness x class probability, compared with the threshold', () => {
  const out = head([{ stride: 8, gx: 10, gy: 10, t: [0, 0, 1, 1], obj: 0.5, cls: 3, p: 0.5 }]);
  expect(decodeYolox(out, spec, labels, tensor, image, opts)).toEqual([]);
  expect(decodeYolox(out, spec, labels, tensor, image, { ...opts, scoreThreshold: 0.2 })).toHaveLength(1);
});

it('suppresses overlapping boxes of the same class only, best first', () => {
  const out = head([
    { stride: 16, gx: 10, gy: 10, t: [0, 0, 1, 1], obj: 0.9, cls: 0, p: 0.9 },
    { stride: 16, gx: 11, gy: 10, t: [0, 0, 1, 1], obj: 0.9, cls: 0, p: 0.8 }, // same person, shifted 16 px
    { stride: 16, gx: 11, gy: 11, t: [0, 0, 1, 1], obj: 0.9, cls: 56, p: 0.7 }, // a chair in the same place
  ]);
  const found = decodeYolox(out, spec, labels, tensor, image, opts);
  expect(found.map((d) => d.classIndex)).toEqual([0, 56]);
  expect(found[0].score).toBeCloseTo(0.81, 6);
});

it('clips boxes that reach past the image edge', () => {
  const out = head([{ stride: 32, gx: 0, gy: 12, t: [0, 0.9, 2, 2], obj: 1, cls: 1, p: 1 }]);
  // Centre (0, 412.8) x 2, half-size exp(2) * 16 x 2 = 236: [-236, 589, 236, 1062] before clipping.
  const [d] = decodeYolox(out, spec, labels, tensor, { width: 300, height: 900 }, opts);
  expect(d.box).toEqual([0, 589, 236, 900]);
});
