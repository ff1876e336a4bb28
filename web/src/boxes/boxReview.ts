// Box review, as pure state: the detector's proposals plus the labeler's own boxes, each accepted, rejected or
// re-classed, then turned into the `boxes` of one annotation. The editor component only renders this state and
// turns pointer drags and keys into these transitions.

import type { Box, BoxLabel } from '../api/types.js';

export type BoxStatus = 'pending' | 'accepted' | 'rejected';

export interface ReviewBox {
  box: Box;
  /** -1 when the detector saw something that is not one of the project's classes: needs a class to be kept. */
  classIndex: number;
  source: 'model' | 'labeler';
  score?: number;
  status: BoxStatus;
  /** Not drawn on the image (still listed, still saved): to see what lies under it. */
  hidden?: boolean;
  /** Protected from moves, resizes, re-classing and rejection until unlocked. */
  locked?: boolean;
}

export interface BoxReview {
  boxes: ReviewBox[];
  /** Index of the selected box, or -1. */
  selected: number;
  /** Class given to newly drawn boxes: the last class the labeler chose. */
  drawClass: number;
}

/** Smallest box side, in image pixels, so a click is not mistaken for a box. */
export const MIN_SIDE = 4;

/** A review of a sample: its saved boxes when it has a label (history), otherwise the model's proposals. */
export function startReview(proposals: BoxLabel[] | undefined, saved?: BoxLabel[]): BoxReview {
  const boxes: ReviewBox[] = saved
    ? saved.map((b) => ({ ...b, box: [...b.box] as Box, status: 'accepted' }))
    : (proposals ?? []).map((p) => ({ ...p, box: [...p.box] as Box, status: 'pending' }));
  return { boxes, selected: boxes.length > 0 ? 0 : -1, drawClass: 0 };
}

const update = (r: BoxReview, i: number, change: Partial<ReviewBox>): ReviewBox[] =>
  r.boxes.map((b, k) => (k === i ? { ...b, ...change } : b));

/** Moves the selection by `step`, wrapping around. */
export function select(r: BoxReview, step: number): BoxReview {
  const n = r.boxes.length;
  if (n === 0) return r;
  const from = r.selected < 0 ? (step > 0 ? -1 : 0) : r.selected;
  return { ...r, selected: (((from + step) % n) + n) % n };
}

export function selectIndex(r: BoxReview, index: number): BoxReview {
  return index >= -1 && index < r.boxes.length ? { ...r, selected: index } : r;
}

/** The next box still waiting for a decision after `from`, or `from` itself if none. */
function nextPending(boxes: ReviewBox[], from: number): number {
  for (let k = 1; k <= boxes.length; k++) {
    const i = (from + k) % boxes.length;
    if (boxes[i].status === 'pending') return i;
  }
  return from;
}

/** Keeps the selected box as the model proposed it (only possible when it names a project class). */
export function acceptSelected(r: BoxReview): BoxReview {
  const b = r.boxes[r.selected];
  if (!b || b.classIndex < 0 || b.locked) return r;
  const boxes = update(r, r.selected, { status: 'accepted' });
  return { ...r, boxes, selected: nextPending(boxes, r.selected) };
}

/** Gives the selected box a class (and keeps it). */
export function classifySelected(r: BoxReview, classIndex: number): BoxReview {
  if (!r.boxes[r.selected]) return { ...r, drawClass: classIndex };
  if (r.boxes[r.selected].locked) return r;
  const boxes = update(r, r.selected, { classIndex, status: 'accepted' });
  return { ...r, boxes, selected: nextPending(boxes, r.selected), drawClass: classIndex };
}

/** Rejects a model proposal (kept in the list, greyed) or deletes a box the labeler drew. */
export function rejectSelected(r: BoxReview): BoxReview {
  const b = r.boxes[r.selected];
  if (!b || b.locked) return r;
  if (b.source === 'labeler') {
    const boxes = r.boxes.filter((_, k) => k !== r.selected);
    return { ...r, boxes, selected: Math.min(r.selected, boxes.length - 1) };
  }
  const boxes = update(r, r.selected, { status: 'rejected' });
  return { ...r, boxes, selected: nextPending(boxes, r.selected) };
}

/** Orders two corners into a box inside the image; undefined if it is too small to be meant. */
export function normalizeBox(a: [number, number], b: [number, number], width: number, height: number): Box | undefined {
  const clampX = (v: number) => Math.round(Math.min(Math.max(v, 0), width));
  const clampY = (v: number) => Math.round(Math.min(Math.max(v, 0), height));
  const box: Box = [clampX(Math.min(a[0], b[0])), clampY(Math.min(a[1], b[1])), clampX(Math.max(a[0], b[0])), clampY(Math.max(a[1], b[1]))];
  return box[2] - box[0] >= MIN_SIDE && box[3] - box[1] >= MIN_SIDE ? box : undefined;
}

export function addBox(r: BoxReview, box: Box): BoxReview {
  const boxes: ReviewBox[] = [...r.boxes, { box, classIndex: r.drawClass, source: 'labeler', status: 'accepted' }];
  return { ...r, boxes, selected: boxes.length - 1 };
}

/** Moves box `i` by (dx, dy) image pixels, keeping it inside the image. */
export function moveBox(r: BoxReview, i: number, dx: number, dy: number, width: number, height: number): BoxReview {
  const b = r.boxes[i];
  if (!b || b.locked) return r;
  const [x1, y1, x2, y2] = b.box;
  const mx = Math.min(Math.max(dx, -x1), width - x2);
  const my = Math.min(Math.max(dy, -y1), height - y2);
  const box: Box = [x1 + mx, y1 + my, x2 + mx, y2 + my].map(Math.round) as Box;
  // An adjusted box is the labeler's, no longer the model's proposal.
  return { ...r, boxes: update(r, i, { box, source: 'labeler', status: 'accepted' }), selected: i };
}

export type Handle = 'nw' | 'ne' | 'sw' | 'se';

/** Drags one corner of box `i` to `point`; the opposite corner stays. */
export function resizeBox(r: BoxReview, i: number, handle: Handle, point: [number, number], width: number, height: number): BoxReview {
  const b = r.boxes[i];
  if (!b || b.locked) return r;
  const [x1, y1, x2, y2] = b.box;
  const fixed: [number, number] = [handle.includes('w') ? x2 : x1, handle.includes('n') ? y2 : y1];
  const box = normalizeBox(fixed, point, width, height);
  if (!box) return r;
  return { ...r, boxes: update(r, i, { box, source: 'labeler', status: 'accepted' }), selected: i };
}

/** Grows (positive) or shrinks the selected box's right and bottom edges by (dw, dh), as Shift+arrows do. */
export function resizeSelected(r: BoxReview, dw: number, dh: number, width: number, height: number): BoxReview {
  const b = r.boxes[r.selected];
  if (!b || b.locked) return r;
  const [x1, y1, x2, y2] = b.box;
  const nx2 = Math.round(Math.min(Math.max(x2 + dw, x1 + MIN_SIDE), width));
  const ny2 = Math.round(Math.min(Math.max(y2 + dh, y1 + MIN_SIDE), height));
  if (nx2 === x2 && ny2 === y2) return r;
  return { ...r, boxes: update(r, r.selected, { box: [x1, y1, nx2, ny2], source: 'labeler', status: 'accepted' }) };
}

/** A new box of the draw class, a quarter of the image's shorter side, centred on `center` (the draw key). */
export function addBoxAt(r: BoxReview, center: [number, number], width: number, height: number): BoxReview {
  const side = Math.max(MIN_SIDE, Math.round(Math.min(width, height) / 4));
  const x1 = Math.round(Math.min(Math.max(center[0] - side / 2, 0), Math.max(0, width - side)));
  const y1 = Math.round(Math.min(Math.max(center[1] - side / 2, 0), Math.max(0, height - side)));
  return addBox(r, [x1, y1, Math.min(width, x1 + side), Math.min(height, y1 + side)]);
}

/** Shows or hides the selected box on the image. */
export function toggleHidden(r: BoxReview, i = r.selected): BoxReview {
  const b = r.boxes[i];
  return b ? { ...r, boxes: update(r, i, { hidden: !b.hidden }) } : r;
}

/** Locks or unlocks the selected box against edits. */
export function toggleLocked(r: BoxReview, i = r.selected): BoxReview {
  const b = r.boxes[i];
  return b ? { ...r, boxes: update(r, i, { locked: !b.locked }) } : r;
}

/** Boxes still needing a class before the review can be saved (pending proposals the model could not name). */
export function unclassified(r: BoxReview): number[] {
  return r.boxes.flatMap((b, i) => (b.status !== 'rejected' && b.classIndex < 0 ? [i] : []));
}

/** The annotation's boxes: everything not rejected; pending proposals count as accepted when the labeler saves. */
export function toBoxLabels(r: BoxReview): BoxLabel[] {
  return r.boxes
    .filter((b) => b.status !== 'rejected' && b.classIndex >= 0)
    .map((b) => ({ box: b.box, classIndex: b.classIndex, source: b.source, ...(b.score !== undefined ? { score: b.score } : {}) }));
}

/** Where a client point falls on an image drawn with object-fit: contain inside `rect`, in image pixels. */
export function toImagePoint(
  clientX: number,
  clientY: number,
  rect: { left: number; top: number; width: number; height: number },
  width: number,
  height: number,
): [number, number] {
  const scale = Math.min(rect.width / width, rect.height / height) || 1;
  const offsetX = (rect.width - width * scale) / 2;
  const offsetY = (rect.height - height * scale) / 2;
  return [(clientX - rect.left - offsetX) / scale, (clientY - rect.top - offsetY) / scale];
}
