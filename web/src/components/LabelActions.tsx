// The labeling view's buttons: everything the keys do, for mouse and touch.

import { Show } from 'solid-js';
import type { BoxMode } from '../boxes/boxMode.js';
import { acceptSelected, rejectSelected } from '../boxes/boxReview.js';
import { acceptableSuggestion, isDraftEmpty } from '../labeling/labels.js';
import type { LabelSession } from '../labeling/session.js';

// Keep focus where it was on mouse/touch presses, so Enter/Space keep meaning "accept" afterwards.
const keepFocus = (e: MouseEvent) => e.preventDefault();

/** Box review by mouse and touch: keep, reject, new box, undo an edit, zoom. */
export function BoxActions(props: { boxes: BoxMode }) {
  const b = props.boxes;
  const selected = () => b.review().boxes[b.review().selected];
  return (
    <div class="actions box-actions" role="group" aria-label="Box actions">
      <button type="button" data-testid="keep-box" aria-keyshortcuts="Y" onMouseDown={keepFocus} disabled={!selected() || selected()!.classIndex < 0} onClick={() => b.setReview(acceptSelected)}>
        Keep box <kbd>Y</kbd>
      </button>
      <button type="button" data-testid="reject-box" aria-keyshortcuts="X Delete" onMouseDown={keepFocus} disabled={!selected()} onClick={() => b.setReview(rejectSelected)}>
        {selected()?.source === 'labeler' ? 'Delete box' : 'Reject box'} <kbd>X</kbd>
      </button>
      <button type="button" data-testid="new-box" aria-keyshortcuts="N" onMouseDown={keepFocus} onClick={() => b.perform({ type: 'newBox' })}>
        New box <kbd>N</kbd>
      </button>
      <button type="button" data-testid="undo-box" aria-keyshortcuts="Control+Z" onMouseDown={keepFocus} disabled={!b.canUndo()} onClick={() => b.undo()}>
        Undo edit
      </button>
      <button type="button" data-testid="zoom-to-box" aria-keyshortcuts="F" onMouseDown={keepFocus} disabled={!selected()} onClick={() => b.perform({ type: 'zoomToBox' })}>
        Zoom to box <kbd>F</kbd>
      </button>
      <button type="button" aria-label="Zoom out" aria-keyshortcuts="-" onMouseDown={keepFocus} onClick={() => b.perform({ type: 'zoom', step: -1 })}>
        −
      </button>
      <button type="button" aria-label="Zoom in" aria-keyshortcuts="+" onMouseDown={keepFocus} onClick={() => b.perform({ type: 'zoom', step: 1 })}>
        +
      </button>
    </div>
  );
}

/** Buttons for everything the keys do, for mouse and touch. */
export function Actions(props: { session: LabelSession; onSave?: () => void }) {
  const s = props.session;
  const suggestion = () => acceptableSuggestion(s.viewed()?.sample.suggestions);
  // Walking back: the saved label is the starting point, so Enter keeps it until the labeler changes something.
  const keeping = () => !props.onSave && s.inHistory() && !!s.viewed() && !!s.shownLabel(s.viewed()!).label && !s.draftChanged();
  const drafted = () => (!isDraftEmpty(s.draft()) && !keeping()) || !!props.onSave;
  return (
    <div class="actions" role="group" aria-label="Label actions">
      <button
        type="button"
        class="primary"
        data-testid="accept"
        aria-keyshortcuts="Enter Space"
        disabled={!s.viewed() || (!drafted() && !keeping() && !suggestion())}
        onMouseDown={keepFocus}
        onClick={() => (props.onSave ? props.onSave() : s.accept())}
      >
        <Show when={drafted() || keeping()} fallback={<>Accept {suggestion() ? `“${suggestion()!.name}”` : 'suggestion'}</>}>
          <Show when={keeping()}>Keep label</Show>
          <Show when={!keeping()}>
          {props.onSave ? 'Save boxes' : 'Save label'}
          </Show>
        </Show>{' '}
        <kbd>Enter</kbd>
      </button>
      <Show when={s.project()?.allowAmbiguous}>
        <button
          type="button"
          data-testid="ambiguous"
          aria-pressed={s.draft().ambiguous}
          aria-keyshortcuts="A"
          onMouseDown={keepFocus}
          onClick={() => s.toggleAmbiguous()}
        >
          Ambiguous <kbd>A</kbd>
        </button>
      </Show>
      <button type="button" data-testid="undo" aria-keyshortcuts="Backspace" onMouseDown={keepFocus} onClick={() => s.undo()} disabled={s.history().length === 0}>
        Undo <kbd>⌫</kbd>
      </button>
      <button type="button" data-testid="skip" aria-keyshortcuts="S" onMouseDown={keepFocus} onClick={() => s.skip()} disabled={!s.viewed()}>
        Skip <kbd>S</kbd>
      </button>
      <button
        type="button"
        data-testid="back"
        aria-label="Back"
        title="Previous label (←)"
        aria-keyshortcuts="ArrowLeft"
        onMouseDown={keepFocus}
        onClick={() => s.back()}
        disabled={s.history().length === 0 || s.cursor() === 0}
      >
        ← <span class="hide-narrow">Back</span>
      </button>
      <button
        type="button"
        data-testid="forward"
        aria-label="Forward"
        title="Next (→)"
        aria-keyshortcuts="ArrowRight"
        onMouseDown={keepFocus}
        onClick={() => s.forward()}
        disabled={!s.inHistory()}
      >
        <span class="hide-narrow">Forward</span> →
      </button>
    </div>
  );
}
