// The label the labeler is composing for the image in view, and its starting point: the saved (or queued) label
// of a history entry, nothing at the front of the queue. Esc goes back to the starting point.

import { batch, createSignal } from 'solid-js';
import { cycleLevel, emptyDraft, toggleClass, type Draft } from './labels.js';
import type { LabelHead, Project } from '../api/types.js';

type ShownLabel = Pick<LabelHead, 'confidences' | 'ambiguous' | 'boxes'>;

export function createDraft() {
  const [draft, setDraft] = createSignal<Draft>(emptyDraft(0));
  const [start, setStart] = createSignal<Draft>(emptyDraft(0));

  function startWith(value: Draft): void {
    batch(() => {
      setStart(value);
      setDraft(value);
    });
  }

  /** Starts from a label (of `classCount` classes) or from nothing; a box label is not a draft of class levels. */
  function startFrom(label: ShownLabel | undefined, classCount: number): void {
    startWith(
      label && !label.boxes && label.confidences.length === classCount
        ? { confidences: [...label.confidences], ambiguous: !!label.ambiguous }
        : emptyDraft(classCount),
    );
  }

  return {
    draft,
    /** The draft differs from its starting point. */
    changed: (): boolean => !sameDraft(draft(), start()),
    startFrom,
    clear: () => setDraft(start()),
    toggleClass: (p: Project, classIndex: number) => setDraft((d) => toggleClass(p, d, classIndex)),
    cycleLevel: (p: Project, classIndex: number) => setDraft((d) => cycleLevel(p, d, classIndex)),
    toggleAmbiguous: () => setDraft((d) => ({ ...d, ambiguous: !d.ambiguous })),
  };
}

const sameDraft = (a: Draft, b: Draft): boolean =>
  a.ambiguous === b.ambiguous && a.confidences.length === b.confidences.length && a.confidences.every((c, i) => Math.abs(c - (b.confidences[i] ?? 0)) < 1e-9);
