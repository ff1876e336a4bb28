// The boxes of the image in view as a side panel, as in CVAT's objects list: each box's number, class colour and
// name, status, and buttons to select, hide or lock it.

import { For, Show } from 'solid-js';
import type { BoxMode } from '../boxes/boxMode.js';
import { selectIndex, toggleHidden, toggleLocked } from '../boxes/boxReview.js';
import { classColour } from '../boxes/classColors.js';

const keepFocus = (e: MouseEvent) => e.preventDefault();

export function BoxList(props: { boxes: BoxMode; classes: string[] }) {
  const review = () => props.boxes.review();
  const name = (classIndex: number) => (classIndex >= 0 ? props.classes[classIndex] ?? `class ${classIndex + 1}` : 'needs a class');
  return (
    <section class="box-list" aria-label="Boxes on this image" data-testid="box-list">
      <h2 class="panel-title">
        Boxes <span class="muted">({review().boxes.filter((b) => b.status !== 'rejected').length} kept of {review().boxes.length})</span>
      </h2>
      <Show when={review().boxes.length > 0} fallback={<p class="muted">No boxes yet: drag on the image or press N.</p>}>
        <ol>
          <For each={review().boxes}>
            {(b, i) => (
              <li
                class={`box-item ${b.status}`}
                classList={{ selected: review().selected === i() }}
                data-testid={`box-item-${i()}`}
                aria-current={review().selected === i() ? 'true' : undefined}
              >
                <button
                  type="button"
                  class="box-pick"
                  onMouseDown={keepFocus}
                  onClick={() => props.boxes.setReview((r) => selectIndex(r, i()))}
                >
                  {/* The name is the visible text ("1 person kept"), with "Select box" for screen readers in front. */}
                  <span class="sr-only">Select box </span>
                  <span class="swatch" style={{ background: classColour(b.classIndex) }} aria-hidden="true" />
                  <span class="box-num">{i() + 1}</span>{' '}
                  <span class="class-name">{name(b.classIndex)}</span>{' '}
                  <span class="muted box-status">{b.status === 'accepted' ? (b.source === 'model' ? 'kept' : 'yours') : b.status}</span>
                </button>
                <button
                  type="button"
                  class="toggle"
                  data-testid={`box-hide-${i()}`}
                  aria-pressed={!!b.hidden}
                  aria-label={`Hide box ${i() + 1}`}
                  title="Hide / show on the image (V)"
                  onMouseDown={keepFocus}
                  onClick={() => props.boxes.setReview((r) => toggleHidden(r, i()))}
                >
                  Hide
                </button>
                <button
                  type="button"
                  class="toggle"
                  data-testid={`box-lock-${i()}`}
                  aria-pressed={!!b.locked}
                  aria-label={`Lock box ${i() + 1}`}
                  title="Lock / unlock against edits (L)"
                  onMouseDown={keepFocus}
                  onClick={() => props.boxes.setReview((r) => toggleLocked(r, i()))}
                >
                  Lock
                </button>
              </li>
            )}
          </For>
        </ol>
      </Show>
    </section>
  );
}
