// YOLOX raw head output -> boxes. The exported graph leaves decoding out: each row is one anchor point of the
// stride-8, -16 and -32 grids (row-major), holding (tx, ty, tw, th, objectness, 80 class probabilities), the last
// 81 already sigmoid-ed. Score = objectness x best class probability, then non-maximum suppression per class.

import type { Box } from '../domain/model.js';
import type { YoloxOutput } from './manifest.js';
import type { ImageTensor } from './preprocess.js';

export interface Detection {
  /** [x1, y1, x2, y2] in original-image pixels, clipped to the image. */
  box: Box;
  classIndex: number;
  name: string;
  score: number;
}

export interface DetectOptions {
  scoreThreshold: number;
  iouThreshold: number;
  maxDetections: number;
}

export function decodeYolox(
  output: Float32Array,
  spec: YoloxOutput,
  labels: readonly string[],
  tensor: Pick<ImageTensor, 'side' | 'toOriginal'>,
  image: { width: number; height: number },
  opts: DetectOptions,
): Detection[] {
  const cols = 5 + spec.classes;
  const rows = output.length / cols;
  const expected = spec.strides.reduce((n, s) => n + (tensor.side / s) ** 2, 0);
  if (rows !== expected) throw new Error(`YOLOX output has ${rows} rows, expected ${expected} for strides ${spec.strides.join('/')}`);

  const candidates: Detection[] = [];
  let row = 0;
  for (const stride of spec.strides) {
    const grid = tensor.side / stride;
    for (let gy = 0; gy < grid; gy++) {
      for (let gx = 0; gx < grid; gx++, row++) {
        const at = row * cols;
        const objectness = output[at + 4];
        // Class probabilities are <= 1, so a low objectness cannot reach the threshold.
        if (objectness < opts.scoreThreshold) continue;
        let best = 0;
        for (let c = 1; c < spec.classes; c++) if (output[at + 5 + c] > output[at + 5 + best]) best = c;
        const score = objectness * output[at + 5 + best];
        if (score < opts.scoreThreshold) continue;
        const cx = (output[at] + gx) * stride;
        const cy = (output[at + 1] + gy) * stride;
        const w = Math.exp(output[at + 2]) * stride;
        const h = Math.exp(output[at + 3]) * stride;
        const box = toImageBox(cx, cy, w, h, tensor.toOriginal, image);
        if (!box) continue;
        candidates.push({ box, classIndex: best, name: labels[best] ?? `class ${best}`, score });
      }
    }
  }
  return nonMaxSuppression(candidates, opts.iouThreshold).slice(0, opts.maxDetections);
}

/**
 * A box the model gives by centre and size in its input (cx, cy, w, h) as corners in the original image: the
 * letterbox undone, clipped to the image, rounded to pixels; undefined when nothing of it is left.
 */
export function toImageBox(
  cx: number,
  cy: number,
  w: number,
  h: number,
  toOriginal: ImageTensor['toOriginal'],
  image: { width: number; height: number },
): Box | undefined {
  const { scaleX, scaleY, offsetX, offsetY } = toOriginal;
  const clipX = (v: number) => Math.min(image.width, Math.max(0, v));
  const clipY = (v: number) => Math.min(image.height, Math.max(0, v));
  const box: Box = [
    Math.round(clipX(offsetX + (cx - w / 2) * scaleX)),
    Math.round(clipY(offsetY + (cy - h / 2) * scaleY)),
    Math.round(clipX(offsetX + (cx + w / 2) * scaleX)),
    Math.round(clipY(offsetY + (cy + h / 2) * scaleY)),
  ];
  return box[2] <= box[0] || box[3] <= box[1] ? undefined : box;
}

export function iou(a: Box, b: Box): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

/** Keeps the best box of each overlapping group of the same class; result sorted by score, best first. */
export function nonMaxSuppression(candidates: Detection[], iouThreshold: number): Detection[] {
  const sorted = [...candidates].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of sorted) {
    if (kept.every((k) => k.classIndex !== d.classIndex || iou(k.box, d.box) <= iouThreshold)) kept.push(d);
  }
  return kept;
}
