// Box review inside the labeling view: which samples are reviewed as boxes, the review of the sample in view
// (reset whenever another sample comes into view), its undo steps, and the key actions that act on boxes.

import { createSignal, on, createEffect } from 'solid-js';
import {
  acceptSelected,
  addBoxAt,
  classifySelected,
  moveBox,
  rejectSelected,
  resizeSelected,
  select,
  selectIndex,
  startReview,
  toBoxLabels,
  toggleHidden,
  toggleLocked,
  unclassified,
  type BoxReview,
} from './boxReview.js';
import type { Action } from '../labeling/keyboard.js';
import type { LabelSession } from '../labeling/session.js';

export const BOX_ZOOMS = [1, 1.5, 2, 3, 4, 6, 8];
/** Undo steps kept per image. */
const UNDO_DEPTH = 100;

/** The largest zoom at which a box covering (fw, fh) of the image still fills at most ~60% of the view. */
export function zoomToFit(fw: number, fh: number): number {
  const fits = BOX_ZOOMS.filter((z) => fw * z <= 0.6 + 1e-9 && fh * z <= 0.6 + 1e-9);
  return fits.length > 0 ? fits[fits.length - 1] : 1;
}

export function createBoxMode(session: LabelSession) {
  const active = () => session.project()?.taskType === 'box-review' && session.viewed()?.sample.kind === 'image';
  const [review, setReviewSignal] = createSignal<BoxReview>(startReview([]));
  const [zoom, setZoom] = createSignal(1);
  const [undoStack, setUndoStack] = createSignal<BoxReview[]>([]);
  /** The editor tells where the middle of the visible part of the image is, for new boxes made by key. */
  let centre: (() => [number, number]) | undefined;
  /** Consecutive key nudges of one box (or one drag) make one undo step. */
  let lastStep: string | undefined;

  // A fresh review for each sample in view: its saved boxes when walking back through history, else proposals.
  createEffect(
    on(
      () => session.viewed()?.sample.sampleId,
      () => {
        const served = session.viewed();
        if (!served) return;
        const saved = session.inHistory() ? session.shownLabel(served).label?.boxes : undefined;
        setReviewSignal(startReview(served.sample.proposals, saved));
        setUndoStack([]);
        lastStep = undefined;
        setZoom(1);
      },
    ),
  );

  /**
   * Changes the review. Edits of the boxes become undo steps (a change of selection alone does not); changes with
   * the same `step` key in a row (a drag, a run of nudges) are one step.
   */
  function setReview(next: BoxReview | ((r: BoxReview) => BoxReview), step?: string): void {
    const before = review();
    const after = typeof next === 'function' ? next(before) : next;
    if (after === before) return;
    if (after.boxes !== before.boxes && (step === undefined || step !== lastStep)) {
      setUndoStack((u) => [...u.slice(-(UNDO_DEPTH - 1)), before]);
    }
    lastStep = step;
    setReviewSignal(after);
  }

  function undo(): void {
    const stack = undoStack();
    if (stack.length === 0) {
      session.say('Nothing to undo on this image.');
      return;
    }
    setUndoStack(stack.slice(0, -1));
    lastStep = undefined;
    setReviewSignal(stack[stack.length - 1]);
  }

  const size = () => {
    const image = session.viewed()?.image;
    return { width: image?.width || 1, height: image?.height || 1 };
  };

  /** Saves the review as one annotation; refuses while a kept box has no class. */
  function save(): void {
    const missing = unclassified(review());
    if (missing.length > 0) {
      setReviewSignal((r) => ({ ...r, selected: missing[0] }));
      session.say(`Box ${missing[0] + 1} needs a class: press its number, or X to reject it.`);
      return;
    }
    const ambiguous = session.draft().ambiguous;
    session.submit({ boxes: toBoxLabels(review()), ...(ambiguous ? { ambiguous } : {}) });
  }

  /** Explains a key that a locked box ignored, instead of doing nothing silently. */
  function editSelected(change: (r: BoxReview) => BoxReview, step?: string): void {
    const b = review().boxes[review().selected];
    if (b?.locked) {
      session.say(`Box ${review().selected + 1} is locked: press L to unlock it.`);
      return;
    }
    setReview(change, step);
  }

  function zoomToSelected(): void {
    const b = review().boxes[review().selected];
    if (!b) {
      session.say('Select a box first ([ or ]).');
      return;
    }
    const { width, height } = size();
    setZoom(zoomToFit((b.box[2] - b.box[0]) / width, (b.box[3] - b.box[1]) / height));
  }

  /** Handles the actions that mean something else for boxes; returns false to let the view handle the rest. */
  function perform(action: Action): boolean {
    if (!active()) return false;
    const { width, height } = size();
    const sel = review().selected;
    switch (action.type) {
      case 'boxClass':
        editSelected((r) => classifySelected(r, action.classIndex));
        return true;
      case 'selectBox':
        setReview((r) => select(r, action.step));
        return true;
      case 'acceptBox':
        editSelected(acceptSelected);
        return true;
      case 'rejectBox':
        editSelected(rejectSelected);
        return true;
      case 'nudgeBox':
        editSelected((r) => moveBox(r, sel, action.dx, action.dy, width, height), `nudge:${sel}`);
        return true;
      case 'resizeBox':
        editSelected((r) => resizeSelected(r, action.dw, action.dh, width, height), `resize:${sel}`);
        return true;
      case 'newBox':
        setReview((r) => addBoxAt(r, centre?.() ?? [width / 2, height / 2], width, height));
        return true;
      case 'toggleHideBox':
        setReview((r) => toggleHidden(r));
        return true;
      case 'toggleLockBox':
        setReview((r) => toggleLocked(r));
        return true;
      case 'undoBox':
        undo();
        return true;
      case 'zoomToBox':
        zoomToSelected();
        return true;
      case 'zoom': {
        const i = BOX_ZOOMS.findIndex((z) => z >= zoom());
        setZoom(BOX_ZOOMS[Math.min(BOX_ZOOMS.length - 1, Math.max(0, (i < 0 ? 0 : i) + action.step))]);
        return true;
      }
      case 'escape':
        if (sel < 0) return false;
        setReview((r) => selectIndex(r, -1));
        return true;
      case 'accept':
        save();
        return true;
    }
    return false;
  }

  return {
    active,
    review,
    setReview,
    zoom,
    perform,
    save,
    undo,
    canUndo: () => undoStack().length > 0,
    selected: () => active() && review().selected >= 0,
    registerCentre(fn: () => [number, number]) {
      centre = fn;
    },
  };
}

export type BoxMode = ReturnType<typeof createBoxMode>;
