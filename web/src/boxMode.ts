// Box review inside the labeling view: which samples are reviewed as boxes, the review of the sample in view
// (reset whenever another sample comes into view), and the key actions that act on boxes.

import { createSignal, on, createEffect } from 'solid-js';
import {
  acceptSelected,
  classifySelected,
  rejectSelected,
  select,
  startReview,
  toBoxLabels,
  unclassified,
  type BoxReview,
} from './boxReview.js';
import type { Action } from './keyboard.js';
import type { LabelSession } from './session.js';

const ZOOMS = [1, 1.5, 2, 3, 4];

export function createBoxMode(session: LabelSession) {
  const active = () => session.project()?.taskType === 'box-review' && session.viewed()?.sample.kind === 'image';
  const [review, setReview] = createSignal<BoxReview>(startReview([]));
  const [zoomStep, setZoomStep] = createSignal(0);

  // A fresh review for each sample in view: its saved boxes when walking back through history, else proposals.
  createEffect(
    on(
      () => session.viewed()?.sample.sampleId,
      () => {
        const served = session.viewed();
        if (!served) return;
        const saved = session.inHistory() ? session.shownLabel(served).label?.boxes : undefined;
        setReview(startReview(served.sample.proposals, saved));
        setZoomStep(0);
      },
    ),
  );

  /** Saves the review as one annotation; refuses while a kept box has no class. */
  function save(): void {
    const missing = unclassified(review());
    if (missing.length > 0) {
      setReview((r) => ({ ...r, selected: missing[0] }));
      session.say(`Box ${missing[0] + 1} needs a class: press its number, or X to reject it.`);
      return;
    }
    const ambiguous = session.draft().ambiguous;
    session.submit({ boxes: toBoxLabels(review()), ...(ambiguous ? { ambiguous } : {}) });
  }

  /** Handles the actions that mean something else for boxes; returns false to let the view handle the rest. */
  function perform(action: Action): boolean {
    if (!active()) return false;
    switch (action.type) {
      case 'boxClass':
        setReview((r) => classifySelected(r, action.classIndex));
        return true;
      case 'selectBox':
        setReview((r) => select(r, action.step));
        return true;
      case 'acceptBox':
        setReview(acceptSelected);
        return true;
      case 'rejectBox':
        setReview(rejectSelected);
        return true;
      case 'zoom':
        setZoomStep((z) => Math.min(ZOOMS.length - 1, Math.max(0, z + action.step)));
        return true;
      case 'accept':
        save();
        return true;
    }
    return false;
  }

  return { active, review, setReview, zoom: () => ZOOMS[zoomStep()], perform, save };
}
