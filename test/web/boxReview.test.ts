// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import {
  acceptSelected,
  addBox,
  addBoxAt,
  classifySelected,
  moveBox,
  normalizeBox,
  rejectSelected,
  resizeBox,
  resizeSelected,
  select,
  startReview,
  toBoxLabels,
  toImagePoint,
  toggleHidden,
  toggleLocked,
  unclassified,
} from '../../web/src/boxes/boxReview.js';
import type { BoxLabel } from '../../web/src/api/types.js';

const proposals: BoxLabel[] = [
  { box: [10, 10, 50, 50], classIndex: 0, source: 'model', score: 0.9 },
  { box: [60, 10, 90, 40], classIndex: -1, source: 'model', score: 0.5 },
  { box: [5, 60, 30, 90], classIndex: 1, source: 'model', score: 0.7 },
];

describe('box review', () => {
  it('starts from the proposals, first box selected, nothing decided', () => {
    const r = startReview(proposals);
    expect(r.selected).toBe(0);
    expect(r.boxes.map((b) => b.status)).toEqual(['pending', 'pending', 'pending']);
    // A saved label wins over the proposals (walking back through history).
    expect(startReview(proposals, [proposals[2]]).boxes).toHaveLength(1);
  });

  it('keeps, re-classes and rejects boxes, moving on to the next undecided one', () => {
    let r = startReview(proposals);
    r = acceptSelected(r);
    expect(r.boxes[0].status).toBe('accepted');
    expect(r.selected).toBe(1);
    // The model could not name box 2: keeping it needs a class.
    expect(acceptSelected(r)).toBe(r);
    r = classifySelected(r, 2);
    expect(r.boxes[1]).toMatchObject({ classIndex: 2, status: 'accepted' });
    expect(r.selected).toBe(2);
    r = rejectSelected(r);
    expect(r.boxes[2].status).toBe('rejected');
    expect(toBoxLabels(r)).toEqual([
      { box: [10, 10, 50, 50], classIndex: 0, source: 'model', score: 0.9 },
      { box: [60, 10, 90, 40], classIndex: 2, source: 'model', score: 0.5 },
    ]);
  });

  it('will not save while a kept box has no class', () => {
    const r = startReview(proposals);
    expect(unclassified(r)).toEqual([1]);
    expect(unclassified(rejectSelected(select(r, 1)))).toEqual([]);
  });

  it('draws a box with the last class used, and deletes a drawn box outright', () => {
    let r = classifySelected(startReview([]), 1); // no box selected: only sets the class for new boxes
    const box = normalizeBox([80, 90], [20, 30], 100, 100)!;
    expect(box).toEqual([20, 30, 80, 90]);
    r = addBox(r, box);
    expect(r.boxes[0]).toMatchObject({ box: [20, 30, 80, 90], classIndex: 1, source: 'labeler', status: 'accepted' });
    expect(r.selected).toBe(0);
    r = rejectSelected(r);
    expect(r.boxes).toEqual([]);
    expect(r.selected).toBe(-1);
  });

  it('ignores a click that would make a tiny box and clamps boxes to the image', () => {
    expect(normalizeBox([10, 10], [12, 40], 100, 100)).toBeUndefined();
    expect(normalizeBox([-20, -5], [150, 120], 100, 100)).toEqual([0, 0, 100, 100]);
  });

  it('moves a box inside the image and resizes it by a corner', () => {
    let r = startReview(proposals);
    r = moveBox(r, 0, 100, -100, 100, 100); // pushed against the right and top edges
    expect(r.boxes[0].box).toEqual([60, 0, 100, 40]);
    expect(r.boxes[0].source).toBe('labeler'); // adjusted by the labeler
    r = resizeBox(r, 0, 'sw', [50, 70], 100, 100);
    expect(r.boxes[0].box).toEqual([50, 0, 100, 70]);
    // Dragging a corner past the opposite one flips the box rather than breaking it.
    r = resizeBox(r, 0, 'se', [20, 20], 100, 100);
    expect(r.boxes[0].box).toEqual([20, 0, 50, 20]);
  });

  it('cycles the selection with wrap-around', () => {
    const r = startReview(proposals);
    expect(select(r, -1).selected).toBe(2);
    expect(select(select(r, 1), 1).selected).toBe(2);
    expect(select(select(select(r, 1), 1), 1).selected).toBe(0);
  });

  it('maps a pointer on a letterboxed image to image pixels', () => {
    // A 200x100 image in a 400x400 element: scale 2, 100 px bands above and below.
    const rect = { left: 10, top: 20, width: 400, height: 400 };
    expect(toImagePoint(10, 120, rect, 200, 100)).toEqual([0, 0]);
    expect(toImagePoint(410, 320, rect, 200, 100)).toEqual([200, 100]);
    expect(toImagePoint(210, 220, rect, 200, 100)).toEqual([100, 50]);
  });
});

describe('box tools', () => {
  it('draws a box by key in the middle of the view, kept inside the image', () => {
    const r = addBoxAt({ ...startReview([]), drawClass: 2 }, [100, 50], 200, 100);
    expect(r.boxes[0]).toMatchObject({ box: [88, 38, 113, 63], classIndex: 2, source: 'labeler', status: 'accepted' });
    expect(r.selected).toBe(0);
    expect(addBoxAt(startReview([]), [0, 0], 200, 100).boxes[0].box).toEqual([0, 0, 25, 25]);
  });

  it('resizes the selected box by its right/bottom edge, never below the smallest side or past the image', () => {
    const r = startReview(proposals);
    expect(resizeSelected(r, 5, -3, 100, 100).boxes[0]).toMatchObject({ box: [10, 10, 55, 47], source: 'labeler' });
    expect(resizeSelected(r, -100, 0, 100, 100).boxes[0].box).toEqual([10, 10, 14, 50]);
    expect(resizeSelected(r, 500, 500, 100, 100).boxes[0].box).toEqual([10, 10, 100, 100]);
  });

  it('a locked box refuses moves, resizes, classes and rejection; hidden boxes are still saved', () => {
    const locked = toggleLocked(startReview(proposals));
    expect(moveBox(locked, 0, 5, 5, 100, 100)).toBe(locked);
    expect(resizeSelected(locked, 5, 5, 100, 100)).toBe(locked);
    expect(classifySelected(locked, 1)).toBe(locked);
    expect(rejectSelected(locked)).toBe(locked);
    expect(toggleLocked(locked).boxes[0].locked).toBe(false);
    const hidden = toggleHidden(startReview(proposals), 2);
    expect(hidden.boxes[2].hidden).toBe(true);
    expect(toBoxLabels(hidden).map((b) => b.box)).toContainEqual([5, 60, 30, 90]);
  });
});
