// Geometry checks of one imported box against the upright image it belongs to: scaled to pixels when the format
// gave fractions (YOLO), refused when empty or reaching beyond the image by more than half a pixel, clamped to the
// image when within that (rounding in other tools' exports, e.g. xmax = 640.3 on a 640-wide image).

import type { Box } from '../../model.js';
import type { ImportBox, ImportProblem } from '../model.js';

/** How far outside the image a box edge may lie and still be taken (then clamped to the edge). */
export const EDGE_TOLERANCE_PX = 0.5;
/** Differences below this are floating-point noise (fractions times sizes), clamped without a word. */
const NOISE_PX = 1e-6;

export type BoxCheck =
  | { box: Box; clamped: boolean }
  | { problem: ImportProblem; why: string }
  /** A zero-size box (x1 = x2 or y1 = y2) marks nothing: left out with a note, not a reason to refuse the file. */
  | { dropped: true; why: string };

const px = (v: number) => String(Math.round(v * 1000) / 1000);
const show = (b: Box) => `[${b.map(px).join(', ')}]`;

export function checkBox(input: ImportBox, width: number, height: number): BoxCheck {
  const [a, b, c, d] = input.box;
  // Thousandths of a pixel: enough for any round trip, without 0.30000000000000004 in stored labels.
  const round = (v: number) => Math.round(v * 1000) / 1000;
  const box: Box = input.normalized ? [round(a * width), round(b * height), round(c * width), round(d * height)] : [a, b, c, d];
  const [x1, y1, x2, y2] = box;
  if (!box.every(Number.isFinite)) return { problem: 'unreadable', why: `box ${show(box)} is not four numbers` };
  if ((x2 === x1 && y2 >= y1) || (y2 === y1 && x2 >= x1)) {
    return { dropped: true, why: `left out: zero-size box ${show(box)} marks nothing` };
  }
  if (!(x2 > x1 && y2 > y1)) {
    return { problem: 'empty_box', why: `box ${show(box)} has ${x2 > x1 ? 'no height' : 'no width'} (x2 must exceed x1 and y2 exceed y1)` };
  }
  const beyond = Math.max(-x1, -y1, x2 - width, y2 - height);
  if (beyond > EDGE_TOLERANCE_PX) {
    return { problem: 'outside_image', why: `box ${show(box)} reaches ${px(beyond)} px beyond the ${width} x ${height} image` };
  }
  const clampedBox: Box = [Math.max(0, x1), Math.max(0, y1), Math.min(width, x2), Math.min(height, y2)];
  if (!(clampedBox[2] > clampedBox[0] && clampedBox[3] > clampedBox[1])) {
    return { problem: 'empty_box', why: `box ${show(box)} has no area inside the ${width} x ${height} image` };
  }
  return { box: clampedBox, clamped: beyond > NOISE_PX };
}

/** Whether two boxes are the same within the round-trip tolerance. */
export function sameBox(a: Box, b: Box, tolerance = EDGE_TOLERANCE_PX): boolean {
  return a.every((v, i) => Math.abs(v - b[i]) <= tolerance);
}
